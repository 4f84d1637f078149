-- Alarm notifications to webhooks: each delivery's payload, made by a trigger on
-- alarm_event in the transaction that made the event (0009, 0011, 0014). Trigger functions
-- run as their owner, past the row-level policies, with the search path pinned to the
-- store's schema (migrate sets it while it applies this file).

-- Times in payloads: ISO 8601 UTC with milliseconds, as the API writes them, whatever the
-- writing session's TimeZone is.
CREATE OR REPLACE FUNCTION webhook_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Every payload carries its own delivery id (the row id), whoever inserts it.
CREATE OR REPLACE FUNCTION alarm_notification_delivery_id() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    NEW.payload := jsonb_build_object('delivery_id', NEW.id::text) || NEW.payload;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER alarm_notification_delivery_id BEFORE INSERT ON alarm_notification
    FOR EACH ROW EXECUTE FUNCTION alarm_notification_delivery_id();

-- Fan an alarm event out to every enabled webhook that wants it, and wake the workers
-- (NOTIFY goes out at commit, so they never look for a row they cannot see yet). The alarm
-- row was updated before its event was inserted, so it is read here as of this event.
-- Only webhooks of an operator whose subtree holds the device hear of it (as the owner, it
-- sees webhooks of ancestors the caller cannot), and a webhook never follows the mutes of a
-- store's account: its deliveries carry every store's alarms.
CREATE OR REPLACE FUNCTION alarm_event_notify() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
CREATE OR REPLACE TRIGGER alarm_event_notify AFTER INSERT ON alarm_event
    FOR EACH ROW EXECUTE FUNCTION alarm_event_notify();
