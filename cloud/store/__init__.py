"""The PostgreSQL store: connections, migrations, and the upkeep of the time-series layout
(day partitions on plain PostgreSQL, policies on TimescaleDB)."""
