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

-- The trigger that fans an alarm event out to the webhooks is in repeatable/notify.sql.
