-- Re-enrolling a second factor keeps the one in force until the new one is confirmed: the
-- new secret waits in `totp_pending_secret`, and `totp_secret` is only ever the confirmed
-- factor (so a stolen session cannot swap the factor out, or switch it off, by enrolling).
ALTER TABLE account ADD COLUMN totp_pending_secret text;
-- A secret enrolled but never confirmed was in force nowhere: it is a pending one.
UPDATE account SET totp_pending_secret = totp_secret, totp_secret = NULL, totp_last_step = NULL
WHERE totp_secret IS NOT NULL AND NOT totp_enabled;
ALTER TABLE account ADD CONSTRAINT account_totp_in_force
    CHECK (totp_enabled = (totp_secret IS NOT NULL));
COMMENT ON COLUMN account.totp_secret IS 'base32; the confirmed second factor (NULL: none)';
COMMENT ON COLUMN account.totp_pending_secret IS
    'base32; enrolled, in force once confirmed (replacing totp_secret then)';
