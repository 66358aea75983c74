-- Runs with search_path set to the store's schema.
-- Named dependents: a host's own things (connection tables, pipelines), each
-- name unique per kind in its tenant. The row points at its attachment, so
-- the attachment keeps blocking the profile's deletion and a detach drops
-- the name with it (CASCADE).
CREATE TABLE dependent_names (
    tenant       TEXT COLLATE "C" NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    dependent_id TEXT COLLATE "C" NOT NULL,
    profile_id   TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, dependent_id),
    FOREIGN KEY (profile_id, kind, dependent_id)
        REFERENCES profile_dependents (profile_id, kind, dependent_id) ON DELETE CASCADE
);

-- The CASCADE looks rows up by their attachment.
CREATE INDEX dependent_names_attachment ON dependent_names (profile_id, kind, dependent_id);
