-- Profiles and what depends on them. Timestamps are unix microseconds (UTC),
-- so round-trips are exact; config and secrets are JSON text.
CREATE TABLE profiles (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    -- lowercase name: uniqueness and list order
    name_key    TEXT    NOT NULL,
    connector   TEXT    NOT NULL,
    description TEXT,
    config      TEXT    NOT NULL,
    -- sealed envelopes only (field -> pbs1.<key id>.<ciphertext>)
    secrets     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX profiles_name_key ON profiles (name_key);
CREATE INDEX profiles_connector_name_key ON profiles (connector, name_key);

-- RESTRICT (not NO ACTION) so a delete fails at once while any row points here.
CREATE TABLE profile_dependents (
    profile_id   TEXT NOT NULL REFERENCES profiles (id) ON DELETE RESTRICT,
    kind         TEXT NOT NULL,
    dependent_id TEXT NOT NULL,
    PRIMARY KEY (profile_id, kind, dependent_id)
) STRICT, WITHOUT ROWID;
