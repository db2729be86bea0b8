-- Issue 12 (trust). A partner system's account is bound to the sources it
-- may push for (a JSON array of source ids; empty for people).
ALTER TABLE users ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';

-- The web UI's sessions, shared by every server on the store: the SHA-256
-- of the session id (the cookie's value is never stored), who, in which
-- role, for which purpose, the CSRF token, and when made and last used
-- (milliseconds since the Unix epoch).
CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT,
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    seen_ms BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_name);

-- Refused requests (401, 403, 400, 429): who if known, from which address,
-- what was asked (method and route template, never a path, query or body)
-- and why refused. No personal data.
CREATE TABLE security_log (
    seq BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    user_name TEXT,
    address TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    status BIGINT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL
);

-- Break-glass overrides, for the data protection officer to sign off: one
-- row per override (a user's reason, used for up to an hour), with how
-- often it was used, and who signed it off, when, with what note.
CREATE TABLE break_glass (
    id BIGSERIAL PRIMARY KEY,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    reason TEXT NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    uses BIGINT NOT NULL,
    signed_off_by TEXT,
    signed_off_at TEXT,
    note TEXT
);
CREATE INDEX break_glass_by_user ON break_glass (user_name, id);

-- Each audit entry's HMAC-SHA256 of its hash under a key kept outside the
-- database (empty where no key was configured).
ALTER TABLE audit_log ADD COLUMN mac TEXT NOT NULL DEFAULT '';

-- Legitimate relationships: reasons on record for a user to open a
-- resident. A search result or a review item, for a while; a team's
-- caseload, until taken off. A user's team (their own name when unset).
ALTER TABLE users ADD COLUMN team TEXT;
CREATE TABLE relationships (
    user_name TEXT NOT NULL,
    person_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (user_name, person_id)
);
CREATE TABLE caseload (
    team TEXT NOT NULL,
    person_id TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (team, person_id)
);
CREATE INDEX audit_log_by_at ON audit_log (at);
