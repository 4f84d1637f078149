-- What keeps the rule engine's inputs and a deleted fence's alarms right (0008). Trigger
-- functions run as their owner, past the row-level policies, with the search path pinned to
-- the store's schema (migrate sets it while it applies this file).

-- Workers keep fences and profiles in memory and reload them when rule_config_version
-- moves; every change to what rules read moves it.
CREATE OR REPLACE FUNCTION rule_config_changed() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM nextval('rule_config_version');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER geofence_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON geofence FOR EACH STATEMENT EXECUTE FUNCTION rule_config_changed();
CREATE OR REPLACE TRIGGER geofence_assignment_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON geofence_assignment FOR EACH STATEMENT EXECUTE FUNCTION rule_config_changed();
CREATE OR REPLACE TRIGGER alarm_profile_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON alarm_profile FOR EACH STATEMENT EXECUTE FUNCTION rule_config_changed();

-- A deleted fence takes its machines with it, and its open alarms are resolved (by 'auto',
-- with a lifecycle event, so webhooks hear of it).
CREATE OR REPLACE FUNCTION geofence_deleted() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM rule_state WHERE rule = 'geofence' AND subject = OLD.id::text;
    WITH resolved AS (
        UPDATE alarm SET state = 'resolved', active = false, resolved_at = now(),
            resolved_by = 'auto', resolution_note = 'the fence was deleted', updated_at = now()
        WHERE type = 'outside_geofence' AND subject = OLD.id::text AND state = 'open'
        RETURNING id)
    INSERT INTO alarm_event (alarm_id, event, by, note)
    SELECT id, 'resolved', 'auto', 'the fence was deleted' FROM resolved ORDER BY id;
    RETURN OLD;
END $$;
CREATE OR REPLACE TRIGGER geofence_deleted AFTER DELETE ON geofence
    FOR EACH ROW EXECUTE FUNCTION geofence_deleted();
