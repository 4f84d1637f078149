"""Ingest: MQTT uplink (consumer.py) -> validated, named rows (rows.py) -> PostgreSQL in one
transaction per batch (writer.py), acknowledged after commit. The loop runs in cloud/worker.py."""
