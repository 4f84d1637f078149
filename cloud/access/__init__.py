"""Who may do what: the permission catalogue and capability flags (permissions.py), the
signed-in caller of a request (principal.py), the access rule of every endpoint and the
audit log (guard.py), and the SQL that scopes a query to the caller's subtree (scope.py).
Accounts, sessions and tokens are made by cloud/api/auth.py and its neighbours."""
