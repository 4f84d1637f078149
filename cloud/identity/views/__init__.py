"""The HTTP views of sign-in, TOTP, tokens, accounts, roles and the audit log: one module per
blueprint."""
