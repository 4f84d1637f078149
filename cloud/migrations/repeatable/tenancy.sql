-- The operator tree's rules (0011, 0014): an operator's path, its capability flags and its
-- sign-in policy are within its parent's and follow it down; every operator gets an
-- administrator role. Trigger functions run as their owner, past the row-level policies,
-- with the search path pinned to the store's schema (migrate sets it while it applies this
-- file).

CREATE OR REPLACE FUNCTION operator_place() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    parent operator%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.parent_id IS DISTINCT FROM OLD.parent_id THEN
        RAISE EXCEPTION 'an operator cannot move to another parent'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'operator_parent_fixed';
    END IF;
    IF NEW.parent_id IS NULL THEN
        NEW.path := ARRAY[NEW.id];
        RETURN NEW;
    END IF;
    SELECT * INTO parent FROM operator WHERE id = NEW.parent_id;
    NEW.path := parent.path || NEW.id;
    IF NOT NEW.flags <@ parent.flags THEN
        RAISE EXCEPTION 'flags % exceed those of the parent operator %',
            (SELECT array_agg(f) FROM unnest(NEW.flags) f WHERE f <> ALL (parent.flags)), parent.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'operator_flags_within_parent';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER operator_place BEFORE INSERT OR UPDATE OF parent_id, flags ON operator
    FOR EACH ROW EXECUTE FUNCTION operator_place();

-- A flag taken from an operator is taken from its children, and so on down (each child's
-- update fires this again).
CREATE OR REPLACE FUNCTION operator_flags_cascade() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE operator SET
        flags = ARRAY(SELECT f FROM unnest(flags) f WHERE f = ANY (NEW.flags) ORDER BY f),
        updated_at = now()
    WHERE parent_id = NEW.id AND NOT flags <@ NEW.flags;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER operator_flags_cascade AFTER UPDATE OF flags ON operator
    FOR EACH ROW WHEN (NOT OLD.flags <@ NEW.flags) EXECUTE FUNCTION operator_flags_cascade();

-- `mfa_required` is a floor for a subtree, like the capability flags: a sub-operator never
-- has it off while its parent has it on, and an operator's own accounts (an API request
-- whose `voltrent.tenant` is that operator) neither lower it nor change their operator's
-- flags: both are set from above.
CREATE OR REPLACE FUNCTION operator_policy() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;  -- the platform answers to nobody
    END IF;
    IF TG_OP = 'UPDATE' AND voltrent_tenant() = NEW.id THEN
        IF NOT (NEW.flags <@ OLD.flags AND OLD.flags <@ NEW.flags) THEN  -- as sets
            RAISE EXCEPTION 'the flags of operator % are set by the operator above it', NEW.id
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_flags_from_above';
        END IF;
        IF OLD.mfa_required AND NOT NEW.mfa_required THEN
            RAISE EXCEPTION 'operator % cannot lower its own sign-in policy', NEW.id
                USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'operator_mfa_from_above';
        END IF;
    END IF;
    IF NOT NEW.mfa_required AND (SELECT mfa_required FROM operator WHERE id = NEW.parent_id) THEN
        RAISE EXCEPTION 'operator % requires a second factor, so must its sub-operator %',
            NEW.parent_id, NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'operator_mfa_within_parent';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER operator_policy BEFORE INSERT OR UPDATE OF flags, mfa_required
    ON operator FOR EACH ROW EXECUTE FUNCTION operator_policy();

-- Turned on at an operator, on in its children, and so on down (each child's update fires
-- this again).
CREATE OR REPLACE FUNCTION operator_mfa_cascade() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE operator SET mfa_required = true, updated_at = now()
    WHERE parent_id = NEW.id AND NOT mfa_required;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER operator_mfa_cascade AFTER UPDATE OF mfa_required ON operator
    FOR EACH ROW WHEN (NEW.mfa_required AND NOT OLD.mfa_required)
    EXECUTE FUNCTION operator_mfa_cascade();

-- Every operator gets an administrator role ('*') when it is made (0011 made the
-- platform's).
CREATE OR REPLACE FUNCTION operator_builtin_roles() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO role (operator_id, name, description, permissions, builtin)
    VALUES (NEW.id, 'administrator', 'everything the operator''s flags allow', '{*}', true);
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER operator_builtin_roles AFTER INSERT ON operator
    FOR EACH ROW EXECUTE FUNCTION operator_builtin_roles();
