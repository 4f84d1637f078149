"""Who is calling and what it may do: accounts (``accounts``, ``views/accounts``), signing
in and sessions (``views/auth``), the second factor (``totp``, ``views/auth_totp``), proving
it again before a sensitive change (``proof``), API tokens (``views/tokens``), roles and the
permission catalogue with the operator capability flags (``permissions``, ``views/roles``),
passwords (``passwords``), the signed-in caller of a request (``principal``), the SQL that
limits a query to the caller's subtree (``scope``), every endpoint's access rule and the
audit row (``guard``, ``objects``, ``views/audit``) and the slowing down of password
guessing (``throttle``)."""
