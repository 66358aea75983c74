-- Labels: the profile's own copy (JSON text, read back with the profile) and
-- a side table, one row per label, that list filters walk in name order:
-- (tenant, key, value, name_key) is a keyset over one label's profiles.
-- Triggers keep the side table in step within the writing statement, so it
-- never disagrees with a committed profile.
ALTER TABLE profiles ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';

CREATE TABLE profile_labels (
    tenant     TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    PRIMARY KEY (tenant, key, value, name_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX profile_labels_profile ON profile_labels (profile_id, key, value);

CREATE TRIGGER profiles_labels_insert AFTER INSERT ON profiles BEGIN
    INSERT INTO profile_labels (tenant, key, value, name_key, profile_id)
        SELECT NEW.tenant, j.key, j.value, NEW.name_key, NEW.id FROM json_each(NEW.labels) AS j;
END;

CREATE TRIGGER profiles_labels_update AFTER UPDATE OF labels, name_key, tenant ON profiles BEGIN
    DELETE FROM profile_labels WHERE profile_id = OLD.id;
    INSERT INTO profile_labels (tenant, key, value, name_key, profile_id)
        SELECT NEW.tenant, j.key, j.value, NEW.name_key, NEW.id FROM json_each(NEW.labels) AS j;
END;

CREATE TRIGGER profiles_labels_delete AFTER DELETE ON profiles BEGIN
    DELETE FROM profile_labels WHERE profile_id = OLD.id;
END;
