-- Signed commands and lease terms: each device's command key is derived from the cloud's
-- master secret (VOLTRENT_COMMAND_KEY, never stored here), its id and this generation, so
-- the database holds no key. Rotating a device's key raises its generation by one.
ALTER TABLE device
    ADD COLUMN command_key_generation integer NOT NULL DEFAULT 1
        CONSTRAINT device_command_key_generation CHECK (command_key_generation >= 1);
