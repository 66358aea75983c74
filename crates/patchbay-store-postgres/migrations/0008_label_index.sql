-- Runs with search_path set to the store's schema.
-- Label filters per tenant, in name order. The GIN index of migration 5
-- answers `labels @>` across every tenant: a common label (half of 100,000
-- profiles) made a filtered page a bitmap of all its rows plus a sort, and
-- prepared (generic) plans chose it even when walking the tenant's names
-- was cheaper. One row per label keyed (tenant, key, value, name_key) is a
-- keyset over one label's profiles in one tenant, like SQLite's side table:
-- a page reads its own rows whatever the label's share. Triggers keep it in
-- step within the writing statement; the foreign key removes a deleted
-- profile's rows.
CREATE TABLE profile_labels (
    tenant     TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL,
    name_key   TEXT COLLATE "C" NOT NULL,
    profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    PRIMARY KEY (tenant, key, value, name_key)
);
CREATE INDEX profile_labels_profile ON profile_labels (profile_id);

INSERT INTO profile_labels (tenant, key, value, name_key, profile_id)
    SELECT p.tenant, l.key, l.value, p.name_key, p.id
    FROM profiles p, jsonb_each_text(p.labels) AS l;

-- `SET search_path FROM CURRENT`: the trigger finds this schema's table
-- whatever the writing session's search_path.
CREATE FUNCTION profile_labels_sync() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM profile_labels WHERE profile_id = OLD.id;
    END IF;
    INSERT INTO profile_labels (tenant, key, value, name_key, profile_id)
        SELECT NEW.tenant, l.key, l.value, NEW.name_key, NEW.id
        FROM jsonb_each_text(NEW.labels) AS l;
    RETURN NULL;
END
$$;

CREATE TRIGGER profiles_labels_insert AFTER INSERT ON profiles
    FOR EACH ROW WHEN (NEW.labels <> '{}'::jsonb) EXECUTE FUNCTION profile_labels_sync();
CREATE TRIGGER profiles_labels_update AFTER UPDATE OF labels, name_key, tenant ON profiles
    FOR EACH ROW WHEN (OLD.labels IS DISTINCT FROM NEW.labels
        OR OLD.name_key IS DISTINCT FROM NEW.name_key OR OLD.tenant IS DISTINCT FROM NEW.tenant)
    EXECUTE FUNCTION profile_labels_sync();

DROP INDEX profiles_labels;
