"""Request and response schemas of accounts and roles (``accounts``) and of sign-in, sessions and
tokens (``auth``)."""
