-- The hub's memory: sources and their agreements, extracts, record versions,
-- quarantine, contact events, persons and links, link history, steward
-- decisions and the review queue. Applied migrations are never edited.

CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    partner TEXT NOT NULL,
    dataset TEXT NOT NULL,
    manifest TEXT NOT NULL,          -- the manifest as JSON
    updated_at TEXT NOT NULL
);

CREATE TABLE extracts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id TEXT NOT NULL REFERENCES sources (id),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,              -- full | delta | events
    rows_read BIGINT NOT NULL,
    stored BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    withdrawn BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL
);

CREATE TABLE records (
    source_id TEXT NOT NULL REFERENCES sources (id),
    record_id TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    row_hash TEXT NOT NULL,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, record_id)
);

CREATE TABLE record_versions (
    source_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    extract_id BIGINT NOT NULL REFERENCES extracts (id),
    fields TEXT NOT NULL,            -- canonical fields, JSON
    attributes TEXT NOT NULL,        -- typed attributes, JSON
    raw TEXT NOT NULL,               -- the row as sent, JSON
    created_at TEXT NOT NULL,
    PRIMARY KEY (source_id, record_id, version)
);

CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    extract_id BIGINT NOT NULL REFERENCES extracts (id),
    source_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    line BIGINT NOT NULL,
    field TEXT,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL
);
CREATE INDEX quarantine_by_extract ON quarantine (extract_id);

CREATE TABLE contact_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    extract_id BIGINT NOT NULL REFERENCES extracts (id),
    source_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    event_date TEXT NOT NULL,
    service TEXT NOT NULL,
    contact_type TEXT NOT NULL,
    practitioner TEXT NOT NULL
);
CREATE INDEX contact_events_by_record ON contact_events (source_id, record_id);

CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE TABLE person_links (
    source_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons (id),
    method TEXT NOT NULL,            -- automatic | steward
    probability DOUBLE PRECISION,
    since TEXT NOT NULL,
    PRIMARY KEY (source_id, record_id)
);
CREATE INDEX person_links_by_person ON person_links (person_id);

CREATE TABLE link_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,              -- created | merged | split | retired
    person_id TEXT NOT NULL,
    others TEXT NOT NULL,            -- JSON array of person ids
    at TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE TABLE steward_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,              -- must_link | cannot_link
    source_l TEXT NOT NULL,
    record_l TEXT NOT NULL,
    source_r TEXT NOT NULL,
    record_r TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE review_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_l TEXT NOT NULL,
    record_l TEXT NOT NULL,
    source_r TEXT NOT NULL,
    record_r TEXT NOT NULL,
    probability DOUBLE PRECISION NOT NULL,
    explanation TEXT NOT NULL,
    status TEXT NOT NULL,            -- open | accepted | rejected
    created_at TEXT NOT NULL,
    decided_at TEXT
);
