-- Remote control: commands and lease terms are rows first (transactional outbox). The API
-- writes a row, the dispatcher (in a worker) publishes it, the ack updates it. The same on
-- both store layouts: these tables are small and not time series.

-- Commands issued to many devices at once share a batch.
CREATE TABLE command_batch (
    batch_id text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    issued_by text NOT NULL,
    reason text,
    type text NOT NULL,
    args jsonb NOT NULL,
    selector jsonb NOT NULL            -- {"device_ids": [...]} or {"filter": {...}}
);

CREATE TABLE command (
    cmd_id text PRIMARY KEY
        CONSTRAINT command_id_format CHECK (cmd_id ~ '^[A-Za-z0-9_.:-]{1,64}$'),
    device_id text NOT NULL REFERENCES device (id) ON DELETE CASCADE,
    type text NOT NULL,
    args jsonb NOT NULL DEFAULT '{}',  -- normalised by the contract's check_command()
    state text NOT NULL DEFAULT 'queued'
        CONSTRAINT command_state CHECK (state IN
            ('queued', 'sent', 'done', 'failed', 'rejected', 'expired', 'cancelled')),
    issued_by text NOT NULL,
    reason text,                       -- why it was issued
    -- clock_timestamp(), not now(): commands of one transaction still get distinct times,
    -- and (created_at, cmd_id) is the order a device receives its commands in.
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    sent_at timestamptz,               -- the latest publish
    send_count integer NOT NULL DEFAULT 0,
    cancelled_at timestamptz,
    acked_at timestamptz,              -- receive time of the device's ack
    result text,                       -- what the device reported: done, failed, rejected, expired
    result_reason text,
    observed jsonb,                    -- state the device read back after executing
    progress jsonb,                    -- the latest "waiting" note (cutoff_waiting event)
    batch_id text REFERENCES command_batch (batch_id) ON DELETE SET NULL,
    CONSTRAINT command_expiry CHECK (expires_at > created_at)
);
CREATE INDEX command_device_history ON command (device_id, created_at DESC, cmd_id);
CREATE INDEX command_open ON command (device_id, created_at, cmd_id)
    WHERE state IN ('queued', 'sent');
CREATE INDEX command_batch_member ON command (batch_id) WHERE batch_id IS NOT NULL;

-- The lease term each device enforces, also offline; published retained on down/lease
-- whenever version > published_version. Versions come from one sequence, so a device
-- deleted and registered again never gets a version lower than one it may still hold.
CREATE SEQUENCE lease_term_version;
CREATE TABLE lease_term (
    device_id text PRIMARY KEY REFERENCES device (id) ON DELETE CASCADE,
    version bigint NOT NULL DEFAULT nextval('lease_term_version'),
    leased boolean NOT NULL,
    leased_until timestamptz,          -- NULL: open-ended
    grace_s integer NOT NULL DEFAULT 0
        CONSTRAINT lease_grace CHECK (grace_s BETWEEN 0 AND 31536000),
    cutoff_when_not_leased boolean NOT NULL,
    lease_id text CONSTRAINT lease_id_length CHECK (length(lease_id) <= 64),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text,
    published_version bigint NOT NULL DEFAULT 0,
    published_at timestamptz
);
CREATE INDEX lease_term_unpublished ON lease_term (device_id)
    WHERE version > published_version;

-- The triggers that wake the dispatcher are in repeatable/commands.sql.
