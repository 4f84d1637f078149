-- The device registry, the latest state per device, and where bad input goes.

CREATE TABLE device (
    id text PRIMARY KEY
        CONSTRAINT device_id_format CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    serial text UNIQUE,
    kind text NOT NULL DEFAULT 'pack' CONSTRAINT device_kind CHECK (kind IN ('pack', 'vehicle')),
    model text NOT NULL DEFAULT '',
    name text NOT NULL DEFAULT '',
    attributes jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_created_at ON device (created_at, id);

-- One row per device (made with it: repeatable/devices.sql), kept by ingest, so the live
-- map and the fleet summary never scan history. Each section has its own time: a section only moves forward in device time, so
-- a replayed backlog or an out-of-order batch never moves a pack back in time.
CREATE TABLE device_state (
    device_id text PRIMARY KEY REFERENCES device (id) ON DELETE CASCADE,
    online boolean NOT NULL DEFAULT false,
    online_changed_at timestamptz,     -- receive time of the status message that set `online`
    last_seen_at timestamptz,          -- receive time of the latest message of any kind
    last_seq bigint,
    status jsonb,                      -- the latest status payload (agent, outbox, sources)
    bms_time timestamptz,
    pack_voltage_v real,
    current_a real,
    soc_percent real,
    cell_voltages_v real[],
    temperatures_c real[],
    charge_mos boolean,
    discharge_mos boolean,
    remaining_ah real,
    full_capacity_ah real,
    cycles integer,
    protection text[],
    position_time timestamptz,
    lat double precision,
    lon double precision,
    speed_kmh real,
    course_deg real,
    vehicle_time timestamptz,
    vehicle_signals jsonb
);

-- Devices that publish without being registered: listed for an operator to register,
-- never created silently. Their messages are in dead_letter.
CREATE TABLE unknown_device (
    device_id text PRIMARY KEY,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    messages bigint NOT NULL DEFAULT 0,
    last_topic text NOT NULL
);

-- Every payload the worker could not store, with the reason; the payload is kept
-- (truncated to 64 KiB; payload_bytes is the size that arrived).
CREATE TABLE dead_letter (
    id bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic text NOT NULL,
    device_id text,
    reason text NOT NULL,
    payload bytea NOT NULL,
    payload_bytes integer NOT NULL
);
CREATE INDEX dead_letter_received_at ON dead_letter (received_at DESC);
CREATE INDEX dead_letter_device ON dead_letter (device_id, received_at DESC);

-- Command results as devices report them (the command table of the remote-control issue
-- joins on cmd_id). One row per (device, cmd_id): a device acks each command once.
CREATE TABLE device_ack (
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    cmd_id text NOT NULL,
    time timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    result text NOT NULL,
    reason text,
    observed jsonb,
    PRIMARY KEY (device_id, cmd_id)
);
