-- voltrent: needs repeatable/series.sql
-- Time series: one table per kind of sample, each with the device time (`time`), the
-- receive time and the device's seq. (device_id, time, seq) is the dedupe key; it includes
-- the time column because a hypertable's or a partitioned table's unique keys must, and in
-- this order it also serves "one device over a time range".
-- The next migration turns these tables into hypertables or day partitions. The generated
-- columns compute with functions of repeatable/series.sql, which migrate applies first.

CREATE TABLE bms_sample (
    device_id text NOT NULL,
    time timestamptz NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    pack_voltage_v real NOT NULL,
    current_a real NOT NULL,
    soc_percent real NOT NULL,
    cell_voltages_v real[] NOT NULL,
    temperatures_c real[] NOT NULL,
    charge_mos boolean NOT NULL,
    discharge_mos boolean NOT NULL,
    remaining_ah real,
    full_capacity_ah real,
    cycles integer,
    protection text[] NOT NULL DEFAULT '{}',
    balancing smallint[] NOT NULL DEFAULT '{}',
    resent boolean NOT NULL DEFAULT false,
    cell_min_v real GENERATED ALWAYS AS (real_array_min(cell_voltages_v)) STORED,
    cell_max_v real GENERATED ALWAYS AS (real_array_max(cell_voltages_v)) STORED,
    temperature_min_c real GENERATED ALWAYS AS (real_array_min(temperatures_c)) STORED,
    temperature_max_c real GENERATED ALWAYS AS (real_array_max(temperatures_c)) STORED,
    PRIMARY KEY (device_id, time, seq)
);

CREATE TABLE position (
    device_id text NOT NULL,
    time timestamptz NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    valid boolean NOT NULL,
    speed_kmh real,
    course_deg real,
    altitude_m real,
    hdop real,
    satellites smallint,
    resent boolean NOT NULL DEFAULT false,
    PRIMARY KEY (device_id, time, seq)
);

-- Vehicle CAN signals as decoded by the device's DBC: names vary by controller, so they
-- are one JSON object per sample (`signals->>'motor_rpm'`).
CREATE TABLE vehicle_sample (
    device_id text NOT NULL,
    time timestamptz NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    signals jsonb NOT NULL,
    resent boolean NOT NULL DEFAULT false,
    PRIMARY KEY (device_id, time, seq)
);

CREATE TABLE device_event (
    device_id text NOT NULL,
    time timestamptz NOT NULL,
    seq bigint NOT NULL,
    received_at timestamptz NOT NULL,
    type text NOT NULL,
    severity text,
    detail jsonb,
    resent boolean NOT NULL DEFAULT false,
    PRIMARY KEY (device_id, time, seq)
);
