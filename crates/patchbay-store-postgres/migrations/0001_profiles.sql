-- Runs with search_path set to the store's schema. Names compare with the
-- "C" collation: list order is bytewise whatever the database's locale.
CREATE TABLE profiles (
    id          TEXT        NOT NULL PRIMARY KEY,
    name        TEXT        NOT NULL,
    -- lowercase name: uniqueness and list order
    name_key    TEXT        COLLATE "C" NOT NULL,
    connector   TEXT        NOT NULL,
    description TEXT,
    config      JSONB       NOT NULL,
    -- sealed envelopes only (field -> pbs1.<key id>.<ciphertext>)
    secrets     JSONB       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT      NOT NULL
);

CREATE UNIQUE INDEX profiles_name_key ON profiles (name_key);
CREATE INDEX profiles_connector_name_key ON profiles (connector, name_key);

-- RESTRICT (not NO ACTION) so a delete fails at once while any row points here.
CREATE TABLE profile_dependents (
    profile_id   TEXT NOT NULL REFERENCES profiles (id) ON DELETE RESTRICT,
    kind         TEXT COLLATE "C" NOT NULL,
    dependent_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (profile_id, kind, dependent_id)
);
