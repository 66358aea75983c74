-- The audit trail: one row per write (in the write's own transaction) and
-- per opening of secrets. Never a config value or a secret. `seq` orders it
-- (AUTOINCREMENT: never reused, even after the newest rows go); `at` is unix
-- microseconds.
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    tenant     TEXT    NOT NULL,
    principal  TEXT,
    action     TEXT    NOT NULL,
    profile_id TEXT,
    version    INTEGER,
    outcome    TEXT    NOT NULL,
    error_code TEXT
) STRICT;

CREATE INDEX audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX audit_events_profile ON audit_events (tenant, profile_id, seq);
