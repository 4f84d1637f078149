-- A device id is an identity, not a free name: its MQTT topics, its broker account and its
-- command keys all hang on it, and the time series keep it after the device row is gone.
-- So a deleted device leaves a tombstone that keeps its id reserved (and its last command
-- key generation), and every period of ownership is kept, so that history is shown to an
-- operator only for the time its subtree held the device.

-- Who held a device when: one row per registration, transfer or store move, closed
-- (ended_at) by the next move or the deletion. Kept after the device row goes. The first
-- registration of an id has no start (started_at NULL: a gateway's backlog from before it
-- was registered is its first owner's); a later one starts when it is made.
CREATE TABLE device_tenure (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id text NOT NULL,
    operator_id bigint NOT NULL,
    store_id bigint,
    started_at timestamptz,
    ended_at timestamptz,
    CONSTRAINT device_tenure_order CHECK (ended_at >= started_at)
);
CREATE INDEX device_tenure_device ON device_tenure (device_id, started_at);
CREATE UNIQUE INDEX device_tenure_one_open ON device_tenure (device_id) WHERE ended_at IS NULL;

-- A deleted device's id, reserved: only the operator that held it (its store, for a store's
-- account) or an operator above it may register it again, and its command keys go on from
-- the generation after the last one.
-- The owner's path is kept, not a reference: an operator removed later must not free the id.
CREATE TABLE device_tombstone (
    device_id text PRIMARY KEY,
    operator_id bigint NOT NULL,
    operator_path bigint[] NOT NULL,
    store_id bigint,
    command_key_generation integer NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_tombstone_operator ON device_tombstone USING gin (operator_path);

-- The periods of the devices there are now, from their moves (device_transfer keeps every
-- one): the first from the beginning with the first move's old owner, then one per move.
INSERT INTO device_tenure (device_id, operator_id, store_id, started_at, ended_at)
SELECT d.id, d.operator_id, d.store_id, NULL, NULL
FROM device d WHERE NOT EXISTS (SELECT 1 FROM device_transfer t WHERE t.device_id = d.id);
INSERT INTO device_tenure (device_id, operator_id, store_id, started_at, ended_at)
SELECT device_id, operator_id, store_id, started_at, ended_at
FROM (
    SELECT t.device_id, t.from_operator_id AS operator_id, t.from_store_id AS store_id,
           NULL::timestamptz AS started_at, t.moved_at AS ended_at,
           row_number() OVER w AS n
    FROM device_transfer t WINDOW w AS (PARTITION BY t.device_id ORDER BY t.moved_at, t.id)
) AS first_owner WHERE n = 1
UNION ALL
SELECT t.device_id, t.to_operator_id, t.to_store_id, t.moved_at,
       lead(t.moved_at) OVER (PARTITION BY t.device_id ORDER BY t.moved_at, t.id)
FROM device_transfer t;

-- Ids deleted before this step left no tombstone, but their time series are still here:
-- reserve them for the platform, which alone may register them again. Their last key
-- generation is not known (a rotation by the CLI leaves no audit row), so the next one
-- starts far above any a gateway can hold. The distinct ids come from a skip scan of each
-- table's primary key (one index probe per device, not a scan of every sample).
CREATE TEMP TABLE seen_device (id text PRIMARY KEY) ON COMMIT DROP;
DO $$
DECLARE
    series text;
BEGIN
    FOREACH series IN ARRAY ARRAY['bms_sample', 'position', 'vehicle_sample', 'device_event']
    LOOP
        EXECUTE format($skip$
            INSERT INTO seen_device
            WITH RECURSIVE ids (id) AS (
                SELECT min(device_id) FROM %1$I
                UNION ALL
                SELECT (SELECT min(device_id) FROM %1$I WHERE device_id > ids.id)
                FROM ids WHERE ids.id IS NOT NULL)
            SELECT id FROM ids WHERE id IS NOT NULL
            ON CONFLICT DO NOTHING $skip$, series);
    END LOOP;
END $$;
INSERT INTO device_tombstone (device_id, operator_id, operator_path, store_id,
                              command_key_generation)
SELECT s.id, 1, ARRAY[1]::bigint[], NULL, 1000
FROM seen_device s WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.id = s.id);

-- From here on registrations, moves and deletions keep the periods and tombstones
-- (repeatable/devices.sql); an operator sees its own (repeatable/row_security.sql).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voltrent_api') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON device_tenure, device_tombstone TO voltrent_api;
    END IF;
END $$;
