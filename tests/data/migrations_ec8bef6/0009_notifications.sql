-- Alarm notifications to webhooks: the webhooks, and an outbox of deliveries filled by a
-- trigger on alarm_event in the transaction that made the event. Workers deliver the outbox
-- (cloud/notify); a receiver that is down only makes its own rows wait. Small tables, the
-- same on both store layouts.

-- A receiver of alarm notifications. `types` NULL: every alarm type. With `operator` set,
-- the types that operator has muted (alarm_mute) are not sent to it. The URL's scheme and
-- host are checked by the API; the CHECK only keeps anything but http(s) out of the table.
CREATE TABLE webhook (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CONSTRAINT webhook_name CHECK (length(name) BETWEEN 1 AND 200),
    url text NOT NULL CONSTRAINT webhook_url CHECK (url ~* '^https?://'),
    secret text NOT NULL CONSTRAINT webhook_secret CHECK (length(secret) >= 16),
    types text[],
    min_severity text NOT NULL DEFAULT 'info'
        CONSTRAINT webhook_min_severity CHECK (min_severity IN ('info', 'warning', 'critical')),
    operator text,
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One delivery of one event to one webhook. `payload` is made when the event is, so it
-- shows the alarm as it was then, however late it goes out. A worker claims a row by moving
-- next_attempt_at past the time its HTTP request can take (a lease) and recording itself in
-- claimed_by; last_attempt_at is the claim's token, so a worker whose lease ran out cannot
-- overwrite what the next one recorded. `retried_at`: a person sent a failed one again; the
-- give-up window counts from then.
CREATE TABLE alarm_notification (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id bigint NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,
    alarm_event_id bigint REFERENCES alarm_event (id) ON DELETE CASCADE,
    event text NOT NULL CONSTRAINT alarm_notification_event
        CHECK (event IN ('raised', 'repeated', 'cleared', 'resolved', 'test')),
    payload jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending'
        CONSTRAINT alarm_notification_state CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    claimed_by text,
    last_status integer,               -- the receiver's HTTP status; NULL: no answer
    last_error text,
    delivered_at timestamptz,
    retried_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alarm_notification_source CHECK (alarm_event_id IS NOT NULL OR event = 'test')
);
-- Each webhook's queue in id order: its head (lowest pending id) is the next to go out, and
-- the notifier finds the due ones through it. Then the history, its failures (counted in
-- the API), and the key ON DELETE CASCADE follows.
CREATE INDEX alarm_notification_queue ON alarm_notification (webhook_id, id)
    WHERE state = 'pending';
CREATE INDEX alarm_notification_failed ON alarm_notification (webhook_id, id)
    WHERE state = 'failed';
CREATE INDEX alarm_notification_webhook ON alarm_notification (webhook_id, id);
CREATE INDEX alarm_notification_alarm_event ON alarm_notification (alarm_event_id);

-- Times in payloads: ISO 8601 UTC with milliseconds, as the API writes them, whatever the
-- writing session's TimeZone is.
CREATE FUNCTION webhook_time(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Every payload carries its own delivery id (the row id), whoever inserts it.
CREATE FUNCTION alarm_notification_delivery_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.payload := jsonb_build_object('delivery_id', NEW.id::text) || NEW.payload;
    RETURN NEW;
END $$;
CREATE TRIGGER alarm_notification_delivery_id BEFORE INSERT ON alarm_notification
    FOR EACH ROW EXECUTE FUNCTION alarm_notification_delivery_id();

-- Fan an alarm event out to every enabled webhook that wants it, and wake the workers
-- (NOTIFY goes out at commit, so they never look for a row they cannot see yet). The alarm
-- row was updated before its event was inserted, so it is read here as of this event.
CREATE FUNCTION alarm_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    body jsonb;
    target bigint;
    kind text;
    severity_rank integer;
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
        array_position(ranks, a.severity)
    INTO body, kind, severity_rank
    FROM alarm a WHERE a.id = NEW.alarm_id;

    FOR target IN
        INSERT INTO alarm_notification (webhook_id, alarm_event_id, event, payload)
        SELECT w.id, NEW.id, NEW.event, body
        FROM webhook w
        WHERE w.enabled
          AND (w.types IS NULL OR kind = ANY (w.types))
          AND severity_rank >= array_position(ranks, w.min_severity)
          AND (w.operator IS NULL OR NOT EXISTS (
               SELECT 1 FROM alarm_mute m
               WHERE m.operator = w.operator AND m.type = kind
                 AND (m.until IS NULL OR m.until > now())))
        ORDER BY w.id
        RETURNING webhook_id
    LOOP
        PERFORM pg_notify('voltrent_notify', target::text);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER alarm_event_notify AFTER INSERT ON alarm_event
    FOR EACH ROW EXECUTE FUNCTION alarm_event_notify();
