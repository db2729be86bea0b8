-- Users with API tokens (stored as SHA-256 hashes only) and the audit log:
-- every disclosure, hash-chained, with its head kept apart so that removing
-- the newest entries is detected too.
CREATE TABLE users (
    name TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    action TEXT NOT NULL,
    person_id TEXT COLLATE "C",
    sources TEXT NOT NULL,           -- JSON array
    fields TEXT NOT NULL,            -- JSON array
    request_id TEXT NOT NULL,
    break_glass TEXT,                -- the written reason, when overridden
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_person ON audit_log (person_id);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
