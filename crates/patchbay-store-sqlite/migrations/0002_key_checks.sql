-- Key check values of the keys that sealed the secrets (never the keys):
-- a process opening the store with a keyring that lacks one is refused at
-- startup. created_at is unix microseconds.
CREATE TABLE key_checks (
    key_id      TEXT    NOT NULL PRIMARY KEY,
    check_value TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
