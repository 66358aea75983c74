-- Runs with search_path set to the store's schema. Key check values of the
-- keys that sealed the secrets (never the keys): a replica started with a
-- keyring that lacks one is refused at startup.
CREATE TABLE key_checks (
    key_id      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    check_value TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
