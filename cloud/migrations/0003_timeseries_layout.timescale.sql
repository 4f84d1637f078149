-- TimescaleDB: hypertables chunked by day, compressed per device after 7 days.
-- Retention is set from VOLTRENT_RETENTION_DAYS by `voltrent cloud migrate`
-- (cloud/store/timescale.py), so it can change without a migration.

CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT create_hypertable(name, by_range('time', INTERVAL '1 day'))
FROM unnest(ARRAY['bms_sample', 'position', 'vehicle_sample', 'device_event']) AS name;

ALTER TABLE bms_sample SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
                            timescaledb.compress_orderby = 'time DESC, seq');
ALTER TABLE position SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
                          timescaledb.compress_orderby = 'time DESC, seq');
ALTER TABLE vehicle_sample SET (timescaledb.compress,
                                timescaledb.compress_segmentby = 'device_id',
                                timescaledb.compress_orderby = 'time DESC, seq');
ALTER TABLE device_event SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',
                              timescaledb.compress_orderby = 'time DESC, seq');

SELECT add_compression_policy(name, INTERVAL '7 days')
FROM unnest(ARRAY['bms_sample', 'position', 'vehicle_sample', 'device_event']) AS name;
