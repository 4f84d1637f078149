-- Operators' policy from above, and the walls around a store's accounts.
--
-- (1) `mfa_required` is a floor for a subtree, like the capability flags: a sub-operator
-- never has it off while its parent has it on, turning it on turns it on in the whole subtree
-- below, and an operator's own accounts (an API request whose `voltrent.tenant` is that
-- operator) neither lower it nor change their operator's flags: both are set from above.
-- (2) Row-level security for an account of a store (`voltrent.store` set): it sees its own
-- operator only (not the sub-operators), the fences assigned to its store's devices, the
-- command batches and audit rows of its store's accounts and no webhook or delivery (they
-- carry every store's alarms and the secrets); it writes none of the operator's objects.
-- (3) A webhook never follows the mutes of a store's account: its deliveries carry every
-- store's alarms, and a store's staff must not silence them for the others.

-- Subtrees that already have an ancestor's policy below them get it now.
UPDATE operator c SET mfa_required = true, updated_at = now()
WHERE NOT c.mfa_required
  AND EXISTS (SELECT 1 FROM operator a
              WHERE c.path @> ARRAY[a.id] AND a.id <> c.id AND a.mfa_required);

CREATE FUNCTION operator_policy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;  -- the platform answers to nobody
    END IF;
    IF TG_OP = 'UPDATE' AND voltrent_tenant() = NEW.id THEN
        IF NOT (NEW.flags <@ OLD.flags AND OLD.flags <@ NEW.flags) THEN  -- as sets
            RAISE EXCEPTION 'the flags of operator % are set by the operator above it', NEW.id
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_flags_from_above';
        END IF;
        IF OLD.mfa_required AND NOT NEW.mfa_required THEN
            RAISE EXCEPTION 'operator % cannot lower its own sign-in policy', NEW.id
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_mfa_from_above';
        END IF;
    END IF;
    IF NOT NEW.mfa_required AND (SELECT mfa_required FROM operator WHERE id = NEW.parent_id) THEN
        RAISE EXCEPTION 'operator % requires a second factor, so must its sub-operator %',
            NEW.parent_id, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'operator_mfa_within_parent';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER operator_policy BEFORE INSERT OR UPDATE OF flags, mfa_required ON operator
    FOR EACH ROW EXECUTE FUNCTION operator_policy();

-- Turned on at an operator, on in its children, and so on down (each child's update fires
-- this again).
CREATE FUNCTION operator_mfa_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE operator SET mfa_required = true, updated_at = now()
    WHERE parent_id = NEW.id AND NOT mfa_required;
    RETURN NULL;
END $$;
CREATE TRIGGER operator_mfa_cascade AFTER UPDATE OF mfa_required ON operator
    FOR EACH ROW WHEN (NEW.mfa_required AND NOT OLD.mfa_required)
    EXECUTE FUNCTION operator_mfa_cascade();

-- 0011's fan-out, leaving out the mutes of a store's account.
CREATE OR REPLACE FUNCTION alarm_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body jsonb;
    target bigint;
    kind text;
    severity_rank integer;
    owner_path bigint[];
    ranks CONSTANT text[] := ARRAY['info', 'warning', 'critical'];
BEGIN
    SELECT jsonb_build_object(
        'event', NEW.event,
        'at', webhook_time(NEW.at),
        'time', webhook_time(NEW.time),
        'alarm', jsonb_build_object(
            'id', a.id, 'device_id', a.device_id, 'type', a.type, 'subject', a.subject,
            'severity', a.severity, 'state', a.state, 'active', a.active, 'count', a.count,
            'first_at', webhook_time(a.first_at), 'latest_at', webhook_time(a.latest_at),
            'cleared_at', webhook_time(a.cleared_at), 'value', a.value,
            'threshold', a.threshold, 'message', a.message, 'resent', a.resent,
            'resolved_at', webhook_time(a.resolved_at), 'resolved_by', a.resolved_by,
            'resolution_note', a.resolution_note),
        'by', NEW."by",
        'note', NEW.note,
        'resent', NEW.resent),
        a.type,
        array_position(ranks, a.severity),
        o.path
    INTO body, kind, severity_rank, owner_path
    FROM alarm a JOIN device d ON d.id = a.device_id JOIN operator o ON o.id = d.operator_id
    WHERE a.id = NEW.alarm_id;

    FOR target IN
        INSERT INTO alarm_notification (webhook_id, alarm_event_id, event, payload)
        SELECT w.id, NEW.id, NEW.event, body
        FROM webhook w
        WHERE w.enabled
          AND w.operator_id = ANY (owner_path)
          AND (w.types IS NULL OR kind = ANY (w.types))
          AND severity_rank >= array_position(ranks, w.min_severity)
          AND (w.operator IS NULL OR NOT EXISTS (
               SELECT 1 FROM alarm_mute m
               WHERE m.operator = w.operator AND m.type = kind
                 AND (m.until IS NULL OR m.until > now())
                 AND NOT EXISTS (SELECT 1 FROM account ma
                                 WHERE ma.login = m.operator AND ma.store_id IS NOT NULL)))
        ORDER BY w.id
        RETURNING webhook_id
    LOOP
        PERFORM pg_notify('voltrent_notify', target::text);
    END LOOP;
    RETURN NULL;
END $$;

-- Triggers run as their owner, past the policies (0011); CREATE OR REPLACE above made the
-- fan-out an invoker's function again.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOREACH fn IN ARRAY ARRAY['operator_policy()', 'operator_mfa_cascade()',
                              'alarm_event_notify()']::regprocedure[] LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp',
                       fn, current_schema());
    END LOOP;
END $$;

-- A store's account sees its own operator, not the sub-operators. The other policies name
-- this table in a subquery, so everything an operator owns follows. Written as a CASE, not
-- "subtree AND (no store OR own id)": the planner took that OR for a filter leaving 2 of 101
-- operators and joined 20,000 devices by one index scan per operator, so a platform's page
-- of devices took 45 ms instead of 27 (BENCHMARKS.md, section 9).
DROP POLICY tenant ON operator;
CREATE POLICY tenant ON operator USING (
    CASE WHEN voltrent_store() IS NULL THEN path @> ARRAY[voltrent_tenant()]
         ELSE id = voltrent_tenant() END);
-- the fences that apply to its store's devices (an assignment is seen with its device)
DROP POLICY tenant ON geofence;
CREATE POLICY tenant ON geofence USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL
         OR EXISTS (SELECT 1 FROM geofence_assignment a WHERE a.geofence_id = geofence.id)));
-- no webhook, so no delivery either (alarm_notification's policy names webhook)
DROP POLICY tenant ON webhook;
CREATE POLICY tenant ON webhook USING (
    operator_id IN (SELECT id FROM operator) AND voltrent_store() IS NULL);
-- the batches its store's accounts issued (an account is seen only with its store)
DROP POLICY tenant ON command_batch;
CREATE POLICY tenant ON command_batch USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR issued_by IN (SELECT login FROM account)));
-- the audit rows of its store's accounts
DROP POLICY tenant ON audit_log;
CREATE POLICY tenant ON audit_log USING (
    (operator_id IN (SELECT id FROM operator) OR (operator_id IS NULL AND voltrent_platform()))
    AND (voltrent_store() IS NULL OR account_id IN (SELECT id FROM account)));
-- Alarm profiles are the platform's settings: everyone reads them, the platform writes them.
ALTER TABLE alarm_profile ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON alarm_profile FOR SELECT USING (true);
CREATE POLICY tenant ON alarm_profile USING (voltrent_platform());

-- What a store's account never writes: the operator's objects (restrictive policies, on top
-- of the tenant ones). Its own store it may edit, not make or remove.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['operator', 'store', 'geofence', 'geofence_assignment',
                                'webhook', 'alarm_notification', 'role', 'device_transfer'] LOOP
        EXECUTE format('CREATE POLICY store_inserts_not ON %I AS RESTRICTIVE FOR INSERT'
                       ' WITH CHECK (voltrent_store() IS NULL)', name);
        EXECUTE format('CREATE POLICY store_deletes_not ON %I AS RESTRICTIVE FOR DELETE'
                       ' USING (voltrent_store() IS NULL)', name);
        IF name <> 'store' THEN
            EXECUTE format('CREATE POLICY store_updates_not ON %I AS RESTRICTIVE FOR UPDATE'
                           ' USING (voltrent_store() IS NULL)', name);
        END IF;
    END LOOP;
END $$;
