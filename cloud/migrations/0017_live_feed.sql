-- The live feed (cloud/live/): the API's hub reads what changed since its cursor. Every row
-- the console's map and device page show carries the id of the transaction that last wrote
-- it (pg_current_xact_id(), set by a trigger in repeatable/live.sql). A cursor is a snapshot
-- (its xmax and the transactions in progress then): a row committed later by a transaction
-- that was in progress is found through the in-progress list, so no late commit is skipped.
-- NULL: written before this step, older than any cursor. Added without a default so that
-- no table is rewritten; the partial indexes leave those rows out.
ALTER TABLE device ADD COLUMN changed_xid xid8;
ALTER TABLE device_state ADD COLUMN changed_xid xid8;
ALTER TABLE lease_term ADD COLUMN changed_xid xid8;
ALTER TABLE alarm ADD COLUMN changed_xid xid8;
ALTER TABLE command ADD COLUMN changed_xid xid8;
-- a closed period of ownership: the device left an operator's or a store's scope ("gone")
ALTER TABLE device_tenure ADD COLUMN changed_xid xid8;

CREATE INDEX device_changed ON device (changed_xid) WHERE changed_xid IS NOT NULL;
CREATE INDEX device_state_changed ON device_state (changed_xid) WHERE changed_xid IS NOT NULL;
CREATE INDEX lease_term_changed ON lease_term (changed_xid) WHERE changed_xid IS NOT NULL;
CREATE INDEX alarm_changed ON alarm (changed_xid) WHERE changed_xid IS NOT NULL;
CREATE INDEX command_changed ON command (changed_xid) WHERE changed_xid IS NOT NULL;
CREATE INDEX device_tenure_changed ON device_tenure (changed_xid) WHERE changed_xid IS NOT NULL;
-- A lease runs out with time, not with a write: the hub looks for terms whose end passed
-- since its last read.
CREATE INDEX lease_term_until ON lease_term (leased_until) WHERE leased;
