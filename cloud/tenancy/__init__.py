"""Tenants: operators and their subtree (``views/operators``), stores (``views/stores``) and
moving devices between them (``views/transfers``). The rule that limits a query to the
caller's subtree is identity's ``scope``, used by every context."""
