-- Rules: alarm profiles, the state of every rule's hysteresis machine, alarms with their
-- occurrences and lifecycle events, mutes, and geofence crossings. Small tables (or, for
-- the histories, append-only ones read by id and device): the same on both store layouts.

-- Alarm thresholds per device model (`device.model`); model '' applies to every device
-- whose model has no profile. Document: {"chemistry": "LFP"|"NMC", "rules": {type: {...}}},
-- checked by cloud.rules.catalogue.check_profile; absent fields take the built-in defaults.
CREATE TABLE alarm_profile (
    model text PRIMARY KEY,
    profile jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text
);

-- One hysteresis machine per (device, rule, subject): rule 'alarm:<type>' or 'geofence',
-- subject a protection name or a fence id ('' if none). A machine that was never moved has
-- no row. One back at rest keeps its row (`resting`) for the time of its last sample, so a
-- late sample is known as late; ingest reads only the rows not resting for every batch.
CREATE TABLE rule_state (
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    rule text NOT NULL,
    subject text NOT NULL DEFAULT '',
    state jsonb NOT NULL,
    resting boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, rule, subject)
);
CREATE INDEX rule_state_busy ON rule_state (device_id) WHERE NOT resting;

-- An alarm: one open row per (device, type, subject); a condition raised again while it is
-- open counts as another occurrence of it. `active`: the condition holds now.
CREATE TABLE alarm (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    type text NOT NULL,
    subject text NOT NULL DEFAULT '',
    severity text NOT NULL CONSTRAINT alarm_severity CHECK (severity IN ('info', 'warning', 'critical')),
    state text NOT NULL DEFAULT 'open' CONSTRAINT alarm_state CHECK (state IN ('open', 'resolved')),
    active boolean NOT NULL DEFAULT true,
    count integer NOT NULL DEFAULT 1,
    first_at timestamptz NOT NULL,     -- device time of the first occurrence
    latest_at timestamptz NOT NULL,    -- device time of the latest occurrence
    cleared_at timestamptz,            -- device time the condition last cleared
    value double precision,            -- of the latest occurrence, in the type's unit
    threshold double precision,
    message text NOT NULL,
    resent boolean NOT NULL DEFAULT false,  -- every occurrence so far came from a backlog
    resolved_at timestamptz,
    resolved_by text,                  -- a person, or 'auto' when the condition cleared
    resolution_note text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alarm_one_open ON alarm (device_id, type, subject) WHERE state = 'open';
CREATE INDEX alarm_latest ON alarm (latest_at DESC, id DESC);
CREATE INDEX alarm_device ON alarm (device_id, latest_at DESC);
CREATE INDEX alarm_open_type ON alarm (type, latest_at DESC) WHERE state = 'open';

-- Each occurrence, with the sample (or event) that raised it, as stored.
CREATE TABLE alarm_occurrence (
    alarm_id bigint NOT NULL REFERENCES alarm (id) ON DELETE CASCADE,
    n integer NOT NULL,                -- 1..alarm.count
    time timestamptz NOT NULL,         -- device time
    received_at timestamptz,
    value double precision,
    threshold double precision,
    resent boolean NOT NULL DEFAULT false,
    sample jsonb,
    PRIMARY KEY (alarm_id, n)
);

-- The lifecycle of alarms, in order: raised (a new alarm), repeated (count + 1), cleared
-- (the condition went away; with auto-clear the alarm is resolved by it), resolved (by a
-- person). Notifications are made from these rows.
CREATE TABLE alarm_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id bigint NOT NULL REFERENCES alarm (id) ON DELETE CASCADE,
    event text NOT NULL CONSTRAINT alarm_event_kind CHECK (event IN ('raised', 'repeated', 'cleared', 'resolved')),
    at timestamptz NOT NULL DEFAULT now(),
    time timestamptz,                  -- device time, for raised / repeated / cleared
    resent boolean NOT NULL DEFAULT false,
    by text,
    note text
);
CREATE INDEX alarm_event_alarm ON alarm_event (alarm_id, id);

-- Alarm types an operator does not want to see or be notified of (until a time, or for good).
-- `operator` is the X-Operator name until accounts exist (the tenancy issue).
CREATE TABLE alarm_mute (
    operator text NOT NULL CONSTRAINT alarm_mute_operator CHECK (length(operator) BETWEEN 1 AND 200),
    type text NOT NULL,
    until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (operator, type)
);

-- Confirmed fence crossings, as the worker's hysteresis saw them. A fence deleted later
-- keeps its events (geofence_id set NULL, the name kept).
CREATE TABLE geofence_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    geofence_id bigint REFERENCES geofence (id) ON DELETE SET NULL,
    geofence_name text NOT NULL,
    -- where the device went: out of the fence, or (back) into it
    type text NOT NULL CONSTRAINT geofence_event_type CHECK (type IN ('left', 'reentered')),
    breach boolean NOT NULL,           -- the fence is broken now (left a keep-in, in a keep-out)
    time timestamptz NOT NULL,         -- device time of the sample that confirmed it
    received_at timestamptz,
    lat double precision,
    lon double precision,
    resent boolean NOT NULL DEFAULT false,
    action jsonb,                      -- a command the rule issued: {"cmd_id", "type", "args"}
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX geofence_event_device ON geofence_event (device_id, time DESC);
CREATE INDEX geofence_event_fence ON geofence_event (geofence_id, time DESC);

-- Workers keep fences and profiles in memory and reload them when this sequence moves;
-- every change to what rules read moves it (the triggers are in repeatable/rules.sql).
CREATE SEQUENCE rule_config_version;
