"""The ingest worker: MQTT uplink -> validated rows -> PostgreSQL, acknowledged after commit."""
