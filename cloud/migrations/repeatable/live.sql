-- The live feed's stamps and wake-up (0017). Trigger functions run as their owner, past the
-- row-level policies, with the search path pinned to the store's schema.

-- Every insert or update of a row the live feed shows records the writing transaction.
CREATE OR REPLACE FUNCTION live_stamp() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END $$;

-- Wake the API's hubs. NOTIFY is delivered at commit, and PostgreSQL folds the same payload
-- sent twice by one transaction into one, so a batch of a thousand updates is one wake-up.
CREATE OR REPLACE FUNCTION live_notify() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_notify('voltrent_live', '');
    RETURN NULL;
END $$;

DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['device', 'device_state', 'lease_term', 'alarm', 'command',
                                'device_tenure'] LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER live_stamp BEFORE INSERT OR UPDATE ON %I'
                       ' FOR EACH ROW EXECUTE FUNCTION live_stamp()', name);
        EXECUTE format('CREATE OR REPLACE TRIGGER live_notify AFTER INSERT OR UPDATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION live_notify()', name);
    END LOOP;
END $$;
