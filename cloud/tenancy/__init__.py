"""Tenants: operators and their subtree (``views/operators``), stores (``views/stores``),
moving devices between them (``views/transfers``), and ``scope``: the SQL that limits a
query to the caller's subtree, used by every context."""
