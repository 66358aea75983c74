-- Runs with search_path set to the store's schema.
-- The change feed: every create, content update (the version moved; a reseal
-- keeps it) and delete of a profile is announced with NOTIFY from the writing
-- transaction itself, so it is delivered if and only if the write commits, to
-- every listening replica, in commit order. A trigger, so writes from any
-- client (another build, psql) are announced too. The channel is named for the
-- schema (cut to fit the 63-byte limit); the payload names the schema in full
-- and listeners drop other schemas' events.
CREATE FUNCTION profiles_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    op          text;
    row_id      text;
    row_version bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        op := 'created'; row_id := NEW.id; row_version := NEW.version;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
            RETURN NULL;
        END IF;
        op := 'updated'; row_id := NEW.id; row_version := NEW.version;
    ELSE
        op := 'deleted'; row_id := OLD.id; row_version := OLD.version;
    END IF;
    PERFORM pg_notify(
        'patchbay_' || left(TG_TABLE_SCHEMA, 54),
        json_build_object('schema', TG_TABLE_SCHEMA, 'op', op, 'id', row_id, 'version', row_version)::text
    );
    RETURN NULL;
END
$$;

CREATE TRIGGER profiles_notify AFTER INSERT OR UPDATE OR DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_notify();
