-- Operators' policy from above, and the walls around a store's accounts.
--
-- (1) `mfa_required` is a floor for a subtree, like the capability flags: a sub-operator
-- never has it off while its parent has it on, turning it on turns it on in the whole subtree
-- below, and an operator's own accounts (an API request whose `voltrent.tenant` is that
-- operator) neither lower it nor change their operator's flags: both are set from above.
-- (2) Row-level security for an account of a store (`voltrent.store` set): it sees its own
-- operator only (not the sub-operators), the fences assigned to its store's devices, the
-- command batches and audit rows of its store's accounts and no webhook or delivery (they
-- carry every store's alarms and the secrets); it writes none of the operator's objects.
-- (3) A webhook never follows the mutes of a store's account: its deliveries carry every
-- store's alarms, and a store's staff must not silence them for the others.
-- The triggers are in repeatable/tenancy.sql and notify.sql, the policies in
-- repeatable/row_security.sql; this step raises what was already below a policy.

-- Subtrees that already have an ancestor's policy below them get it now.
UPDATE operator c SET mfa_required = true, updated_at = now()
WHERE NOT c.mfa_required
  AND EXISTS (SELECT 1 FROM operator a
              WHERE c.path @> ARRAY[a.id] AND a.id <> c.id AND a.mfa_required);
