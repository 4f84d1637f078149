-- Row-level security, the second wall behind the API's own filters (0011, 0013, 0014). The
-- API runs each signed-in request as the role `voltrent_api` (SET ROLE) with
-- `voltrent.tenant` set to the caller's operator and `voltrent.store` to its store (if the
-- account is a store's). Owners (the migrating role, the workers) are not subject to these
-- policies. A policy names its parent table in a subquery, so the parent's own policy
-- applies: one hashed subplan per statement. Each policy is dropped and made again in this
-- file's one transaction, so no session ever sees a table without it. The time series'
-- policies are in row_security.partitioned.sql.

CREATE OR REPLACE FUNCTION voltrent_tenant() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('voltrent.tenant', true), '')::bigint
$$;
CREATE OR REPLACE FUNCTION voltrent_store() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('voltrent.store', true), '')::bigint
$$;
-- Platform tables (dead letters, unknown devices) are the root operator's alone.
CREATE OR REPLACE FUNCTION voltrent_platform() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM operator WHERE id = voltrent_tenant() AND parent_id IS NULL)
       AND voltrent_store() IS NULL
$$;

-- The operators a caller sees: its subtree; a store's account, its own operator only (not
-- the sub-operators). The other policies name this table in a subquery, so everything an
-- operator owns follows. Written as a CASE, not "subtree AND (no store OR own id)": the
-- planner took that OR for a filter leaving 2 of 101 operators and joined 20,000 devices by
-- one index scan per operator, so a platform's page of devices took 45 ms instead of 27
-- (BENCHMARKS.md, section 9).
ALTER TABLE operator ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON operator;
CREATE POLICY tenant ON operator USING (
    CASE WHEN voltrent_store() IS NULL THEN path @> ARRAY[voltrent_tenant()]
         ELSE id = voltrent_tenant() END);

DO $$
DECLARE
    name text;
    -- A correlated EXISTS, not `device_id IN (SELECT id FROM device)`: reading one device's
    -- rows probes the device's key once, where IN would hash every visible device first
    -- (10 ms for 20,000 devices on every request; BENCHMARKS.md, section 9).
    by_device CONSTANT text := 'EXISTS (SELECT 1 FROM device d WHERE d.id = device_id)';
BEGIN
    -- tables keyed by a device
    FOREACH name IN ARRAY ARRAY[
        'device_state', 'device_ack', 'command', 'lease_term', 'geofence_assignment',
        'rule_state', 'alarm', 'geofence_event', 'device_transfer'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('DROP POLICY IF EXISTS tenant ON %I', name);
        EXECUTE format('CREATE POLICY tenant ON %I USING (%s)', name, by_device);
    END LOOP;
    FOREACH name IN ARRAY ARRAY['alarm_occurrence', 'alarm_event'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('DROP POLICY IF EXISTS tenant ON %I', name);
        EXECUTE format('CREATE POLICY tenant ON %I USING (EXISTS (SELECT 1 FROM alarm a'
                       ' WHERE a.id = %I.alarm_id))', name, name);
    END LOOP;
    FOREACH name IN ARRAY ARRAY['dead_letter', 'unknown_device'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
        EXECUTE format('DROP POLICY IF EXISTS tenant ON %I', name);
        EXECUTE format('CREATE POLICY tenant ON %I USING (voltrent_platform())', name);
    END LOOP;
END $$;

-- roles belong to the operator that made them
ALTER TABLE role ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON role;
CREATE POLICY tenant ON role USING (operator_id IN (SELECT id FROM operator));
-- the fences that apply to its store's devices (an assignment is seen with its device)
ALTER TABLE geofence ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON geofence;
CREATE POLICY tenant ON geofence USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL
         OR EXISTS (SELECT 1 FROM geofence_assignment a WHERE a.geofence_id = geofence.id)));
-- a store's account sees no webhook, so no delivery either (alarm_notification's policy
-- names webhook): they carry every store's alarms and the secrets
ALTER TABLE webhook ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON webhook;
CREATE POLICY tenant ON webhook USING (
    operator_id IN (SELECT id FROM operator) AND voltrent_store() IS NULL);
ALTER TABLE alarm_notification ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON alarm_notification;
CREATE POLICY tenant ON alarm_notification USING (webhook_id IN (SELECT id FROM webhook));
-- the batches its store's accounts issued (an account is seen only with its store)
ALTER TABLE command_batch ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON command_batch;
CREATE POLICY tenant ON command_batch USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR issued_by IN (SELECT login FROM account)));
-- rows of nobody's (a failed sign-in with an unknown login) are the platform's; a store's
-- account sees the rows of its store's accounts
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON audit_log;
CREATE POLICY tenant ON audit_log USING (
    (operator_id IN (SELECT id FROM operator) OR (operator_id IS NULL AND voltrent_platform()))
    AND (voltrent_store() IS NULL OR account_id IN (SELECT id FROM account)));
-- a device's broker account goes with the device; service accounts (the workers') are the
-- platform's
ALTER TABLE broker_account ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON broker_account;
CREATE POLICY tenant ON broker_account USING (
    EXISTS (SELECT 1 FROM device d WHERE d.id = device_id)
    OR (device_id IS NULL AND voltrent_platform()));
ALTER TABLE store ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON store;
CREATE POLICY tenant ON store USING (
    operator_id IN (SELECT id FROM operator) AND (voltrent_store() IS NULL OR id = voltrent_store()));
ALTER TABLE device ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON device;
CREATE POLICY tenant ON device USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
ALTER TABLE account ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON account;
CREATE POLICY tenant ON account USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
ALTER TABLE account_role ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON account_role;
CREATE POLICY tenant ON account_role USING (
    EXISTS (SELECT 1 FROM account a WHERE a.id = account_id));
ALTER TABLE credential ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON credential;
CREATE POLICY tenant ON credential USING (
    EXISTS (SELECT 1 FROM account a WHERE a.id = account_id));
-- mutes name the account's login
ALTER TABLE alarm_mute ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON alarm_mute;
CREATE POLICY tenant ON alarm_mute USING (operator IN (SELECT login FROM account));
-- An operator sees its own periods and tombstones (a store's account: its store's).
ALTER TABLE device_tenure ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON device_tenure;
CREATE POLICY tenant ON device_tenure USING (
    operator_id IN (SELECT id FROM operator)
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
ALTER TABLE device_tombstone ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant ON device_tombstone;
CREATE POLICY tenant ON device_tombstone USING (
    operator_path @> ARRAY[voltrent_tenant()]
    AND (voltrent_store() IS NULL OR store_id = voltrent_store()));
-- Alarm profiles are the platform's settings: everyone reads them, the platform writes them.
ALTER TABLE alarm_profile ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS everyone_reads ON alarm_profile;
CREATE POLICY everyone_reads ON alarm_profile FOR SELECT USING (true);
DROP POLICY IF EXISTS tenant ON alarm_profile;
CREATE POLICY tenant ON alarm_profile USING (voltrent_platform());

-- What a store's account never writes: the operator's objects (restrictive policies, on top
-- of the tenant ones). Its own store it may edit, not make or remove.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['operator', 'store', 'geofence', 'geofence_assignment',
                                'webhook', 'alarm_notification', 'role', 'device_transfer'] LOOP
        EXECUTE format('DROP POLICY IF EXISTS store_inserts_not ON %I', name);
        EXECUTE format('CREATE POLICY store_inserts_not ON %I AS RESTRICTIVE FOR INSERT'
                       ' WITH CHECK (voltrent_store() IS NULL)', name);
        EXECUTE format('DROP POLICY IF EXISTS store_deletes_not ON %I', name);
        EXECUTE format('CREATE POLICY store_deletes_not ON %I AS RESTRICTIVE FOR DELETE'
                       ' USING (voltrent_store() IS NULL)', name);
        IF name <> 'store' THEN
            EXECUTE format('DROP POLICY IF EXISTS store_updates_not ON %I', name);
            EXECUTE format('CREATE POLICY store_updates_not ON %I AS RESTRICTIVE FOR UPDATE'
                           ' USING (voltrent_store() IS NULL)', name);
        END IF;
    END LOOP;
END $$;
