-- Waking the dispatcher, and the audit row of every command (0006, 0011). Trigger functions
-- run as their owner, past the row-level policies, with the search path pinned to the
-- store's schema (migrate sets it while it applies this file).

-- Wake the dispatcher: payload '<what>:<device_id>'. NOTIFY is delivered at commit, so
-- the dispatcher never sees a row its writer has not committed.
CREATE OR REPLACE FUNCTION command_notify() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.state = 'queued' AND (TG_OP = 'INSERT' OR OLD.state IS DISTINCT FROM 'queued'
                                 OR OLD.expires_at IS DISTINCT FROM NEW.expires_at) THEN
        PERFORM pg_notify('voltrent_dispatch', 'cmd:' || NEW.device_id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER command_notify AFTER INSERT OR UPDATE ON command
    FOR EACH ROW EXECUTE FUNCTION command_notify();

CREATE OR REPLACE FUNCTION lease_term_notify() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.version > NEW.published_version THEN
        PERFORM pg_notify('voltrent_dispatch', 'lease:' || NEW.device_id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER lease_term_notify AFTER INSERT OR UPDATE ON lease_term
    FOR EACH ROW EXECUTE FUNCTION lease_term_notify();

-- A device coming online gets its queued commands, and those sent without an ack again.
CREATE OR REPLACE FUNCTION device_online_notify() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.online AND NOT OLD.online THEN
        PERFORM pg_notify('voltrent_dispatch', 'online:' || NEW.device_id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER device_online_notify AFTER UPDATE OF online ON device_state
    FOR EACH ROW EXECUTE FUNCTION device_online_notify();

-- Every command, whoever issued it (a person through the API or a rule), is audited.
CREATE OR REPLACE FUNCTION command_audit() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO audit_log (operator_id, actor, via, action, target, detail)
    SELECT d.operator_id, NEW.issued_by, 'system', 'command.issue', NEW.device_id,
           jsonb_build_object('cmd_id', NEW.cmd_id, 'type', NEW.type, 'args', NEW.args,
                              'reason', NEW.reason, 'expires_at', NEW.expires_at)
    FROM device d WHERE d.id = NEW.device_id;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER command_audit AFTER INSERT ON command
    FOR EACH ROW EXECUTE FUNCTION command_audit();
