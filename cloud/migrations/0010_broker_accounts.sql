-- Who may connect to the MQTT broker: one account per device (its username is its id) and
-- accounts for the cloud's own services (workers), whose names start with '_' so that no
-- device id can take them. Passwords are random (192 bits), shown once, and kept only as a
-- Mosquitto-compatible PBKDF2-SHA512 hash (`$7$iterations$salt$hash`), so the broker's
-- password file is written from this table and the HTTP auth endpoint checks the same hash.
CREATE TABLE broker_account (
    username text PRIMARY KEY
        CONSTRAINT broker_account_username CHECK (username ~ '^_?[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    kind text NOT NULL CONSTRAINT broker_account_kind CHECK (kind IN ('device', 'service')),
    device_id text UNIQUE REFERENCES device (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT broker_account_device CHECK (
        (kind = 'device' AND device_id = username) OR
        (kind = 'service' AND device_id IS NULL AND username LIKE '\_%'))
);
