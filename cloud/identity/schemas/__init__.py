"""Request and response schemas of accounts and roles (``accounts``), of sign-in, sessions and
tokens (``auth``) and of the audit log (``audit``)."""
