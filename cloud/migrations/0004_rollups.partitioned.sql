-- Plain PostgreSQL: 1-minute and 1-hour BMS rollups kept by the worker. Ingest records
-- which (device, minute) buckets it wrote to in rollup_pending, in the same transaction as
-- the samples; the worker's rollup job recomputes those buckets (so a backlog replay of
-- last week fixes last week's rollups) and the hours they fall in.
-- The columns match the TimescaleDB continuous aggregates of the same names.

CREATE TABLE bms_1m (
    bucket timestamptz NOT NULL,
    device_id text NOT NULL,
    samples integer NOT NULL,
    soc_min real, soc_avg real, soc_max real,
    pack_voltage_min real, pack_voltage_avg real, pack_voltage_max real,
    current_min real, current_avg real, current_max real,
    cell_min real, cell_max real,
    temperature_min real, temperature_max real,
    PRIMARY KEY (device_id, bucket)
);
CREATE TABLE bms_1h (LIKE bms_1m INCLUDING ALL);

CREATE TABLE rollup_pending (
    device_id text NOT NULL,
    bucket timestamptz NOT NULL,
    PRIMARY KEY (device_id, bucket)
);
