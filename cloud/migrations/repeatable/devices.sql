-- What happens when a device row is made, moved or deleted: its state row, its periods of
-- ownership (device_tenure) and the tombstone that keeps a deleted id reserved (0013).
-- Trigger functions run as their owner, past the row-level policies, with the search path
-- pinned to the store's schema (migrate sets it while it applies this file).

-- A registered device gets its state row and leaves the unknown devices.
CREATE OR REPLACE FUNCTION device_state_create() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO device_state (device_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    DELETE FROM unknown_device WHERE device_id = NEW.id;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER device_state_create AFTER INSERT ON device
    FOR EACH ROW EXECUTE FUNCTION device_state_create();

-- A new registration opens a period; a registration of a tombstoned id is refused unless the
-- caller (voltrent.tenant, set for every signed-in API request) is the operator that held it
-- or one above it (and a store's account, of its store). The platform's own tools (no tenant
-- set) may. An AFTER trigger: a registration racing the deletion that makes the
-- tombstone waits on the id's unique key, then sees the tombstone here (a fresh snapshot
-- per statement) and is refused, where a check before the insert would have missed it.
CREATE OR REPLACE FUNCTION device_register() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
CREATE OR REPLACE TRIGGER device_register AFTER INSERT ON device
    FOR EACH ROW EXECUTE FUNCTION device_register();

-- A move to another operator or store closes the period and opens the next, at the time
-- device_transfer records it (now()).
CREATE OR REPLACE FUNCTION device_move() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE device_tenure SET ended_at = now() WHERE device_id = NEW.id AND ended_at IS NULL;
    INSERT INTO device_tenure (device_id, operator_id, store_id, started_at)
    VALUES (NEW.id, NEW.operator_id, NEW.store_id, now());
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER device_move AFTER UPDATE OF operator_id, store_id ON device
    FOR EACH ROW WHEN ((OLD.operator_id, OLD.store_id) IS DISTINCT FROM (NEW.operator_id, NEW.store_id))
    EXECUTE FUNCTION device_move();

-- A deletion closes the period and leaves the tombstone.
CREATE OR REPLACE FUNCTION device_bury() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE device_tenure SET ended_at = now() WHERE device_id = OLD.id AND ended_at IS NULL;
    INSERT INTO device_tombstone (device_id, operator_id, operator_path, store_id,
                                  command_key_generation)
    SELECT OLD.id, OLD.operator_id, o.path, OLD.store_id, OLD.command_key_generation
    FROM operator o WHERE o.id = OLD.operator_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER device_bury AFTER DELETE ON device
    FOR EACH ROW EXECUTE FUNCTION device_bury();
