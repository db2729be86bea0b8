-- The two tables ingest fills in bulk lose their per-row foreign-key checks
-- (see the PostgreSQL migration of the same version for why). SQLite cannot
-- drop a constraint, so the tables are rebuilt with their rows.
CREATE TABLE records_rebuilt (
    source_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    row_hash TEXT NOT NULL,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, record_id)
);
INSERT INTO records_rebuilt SELECT source_id, record_id, current_version, row_hash, withdrawn FROM records;
DROP TABLE records;
ALTER TABLE records_rebuilt RENAME TO records;

CREATE TABLE record_versions_rebuilt (
    source_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    extract_id BIGINT NOT NULL,
    fields TEXT NOT NULL,
    attributes TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (source_id, record_id, version)
);
INSERT INTO record_versions_rebuilt
    SELECT source_id, record_id, version, extract_id, fields, attributes, raw, created_at FROM record_versions;
DROP TABLE record_versions;
ALTER TABLE record_versions_rebuilt RENAME TO record_versions;
