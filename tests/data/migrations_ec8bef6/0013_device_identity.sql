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

-- A new registration opens a period; a registration of a tombstoned id is refused unless the
-- caller (voltrent.tenant, set for every signed-in API request) is the operator that held it
-- or one above it (and a store's account, of its store). The platform's own tools (no tenant
-- set) may. An AFTER trigger: a registration racing the deletion that makes the
-- tombstone waits on the id's unique key, then sees the tombstone here (a fresh snapshot
-- per statement) and is refused, where a check before the insert would have missed it.
CREATE FUNCTION device_register() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone device_tombstone%ROWTYPE;
BEGIN
    DELETE FROM device_tombstone WHERE device_id = NEW.id RETURNING * INTO gone;
    IF FOUND THEN
        IF voltrent_tenant() IS NOT NULL AND NOT (
            gone.operator_path @> ARRAY[voltrent_tenant()]
            AND (voltrent_store() IS NULL OR gone.store_id = voltrent_store()))
        THEN
            RAISE EXCEPTION 'device id % is reserved by a deleted device', NEW.id
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'device_tombstone_pkey';
        END IF;
        -- never the key of an earlier registration: its gateway may still hold it
        UPDATE device SET command_key_generation =
            greatest(command_key_generation, gone.command_key_generation + 1)
        WHERE id = NEW.id;
    END IF;
    INSERT INTO device_tenure (device_id, operator_id, store_id, started_at)
    SELECT NEW.id, NEW.operator_id, NEW.store_id,
           CASE WHEN EXISTS (SELECT 1 FROM device_tenure t WHERE t.device_id = NEW.id)
                THEN now() END;
    RETURN NULL;
END $$;
CREATE TRIGGER device_register AFTER INSERT ON device
    FOR EACH ROW EXECUTE FUNCTION device_register();

-- A move to another operator or store closes the period and opens the next, at the time
-- device_transfer records it (now()).
CREATE FUNCTION device_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE device_tenure SET ended_at = now() WHERE device_id = NEW.id AND ended_at IS NULL;
    INSERT INTO device_tenure (device_id, operator_id, store_id, started_at)
    VALUES (NEW.id, NEW.operator_id, NEW.store_id, now());
    RETURN NULL;
END $$;
CREATE TRIGGER device_move AFTER UPDATE OF operator_id, store_id ON device
    FOR EACH ROW WHEN ((OLD.operator_id, OLD.store_id) IS DISTINCT FROM (NEW.operator_id, NEW.store_id))
    EXECUTE FUNCTION device_move();

-- A deletion closes the period and leaves the tombstone.
CREATE FUNCTION device_bury() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE device_tenure SET ended_at = now() WHERE device_id = OLD.id AND ended_at IS NULL;
    INSERT INTO device_tombstone (device_id, operator_id, operator_path, store_id,
                                  command_key_generation)
    SELECT OLD.id, OLD.operator_id, o.path, OLD.store_id, OLD.command_key_generation
    FROM operator o WHERE o.id = OLD.operator_id;
    RETURN NULL;
END $$;
CREATE TRIGGER device_bury AFTER DELETE ON device
    FOR EACH ROW EXECUTE FUNCTION device_bury();

-- As 0011 made its triggers: they run as their owner, past the policies.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOREACH fn IN ARRAY ARRAY['device_register()', 'device_move()', 'device_bury()']::regprocedure[]
    LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp',
                       fn, current_schema());
    END LOOP;
END $$;

-- An operator sees its own periods and tombstones (a store's account: its store's).
ALTER TABLE device_tenure ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON device_tenure USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
ALTER TABLE device_tombstone ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON device_tombstone USING (
    operator_path @> ARRAY[voltrent_tenant()]
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voltrent_api') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON device_tenure, device_tombstone TO voltrent_api;
    END IF;
END $$;
