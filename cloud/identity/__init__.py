"""Who is calling and what it may do.

- the caller of a request (``principal``: a session or an API token, and the one rule of a
  credential that still works), every endpoint's access rule and the audit row (``guard``,
  ``objects``, ``audit``), the SQL that limits a query to the caller's subtree (``scope``);
- signing in (``sign_in``), the slowing down of password guessing (``throttle``), passwords
  (``passwords``) and the TOTP second factor (``totp``);
- proving again before a sensitive change (``proof``) and what a caller changes of its own
  account: password, API tokens, second factor (``self_service``);
- sessions and tokens listed and revoked (``credentials``), accounts (``accounts``), roles
  and the permission catalogue with the operator capability flags (``roles``,
  ``permissions``), and the rule that nobody gives or takes over more than it may do
  itself (``powers``).

``views/`` has one thin module per blueprint; ``schemas/`` their request and response
schemas.
"""
