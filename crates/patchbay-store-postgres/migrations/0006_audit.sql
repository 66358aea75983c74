-- Runs with search_path set to the store's schema.
-- The audit trail: one row per write (in the write's own transaction) and
-- per opening of secrets. Never a config value or a secret. `seq` orders
-- it; a reader paging with `after` may meet a lower `seq` committed after
-- a higher one (transactions in flight), a gap of moments, not of events.
CREATE TABLE audit_events (
    seq        BIGSERIAL   PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    tenant     TEXT COLLATE "C" NOT NULL,
    principal  TEXT,
    action     TEXT        NOT NULL,
    profile_id TEXT,
    version    BIGINT,
    outcome    TEXT        NOT NULL,
    error_code TEXT
);

CREATE INDEX audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX audit_events_profile ON audit_events (tenant, profile_id, seq);
