"""Tenants: operators and their subtree (``operators``), stores (``stores``) and moving
devices between them (``transfers``), each with its API in ``views/``. The rule that limits
a query to the caller's subtree is identity's ``scope``, used by every context."""
