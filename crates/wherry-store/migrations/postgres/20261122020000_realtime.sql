-- Each linkage run's model, so the real-time matcher scores pushed records
-- with the weights the last run used.
CREATE TABLE models (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL              -- the trained model, JSON
);

-- A pushed record looks up the steward's decisions about it.
CREATE INDEX steward_decisions_by_left ON steward_decisions (source_l, record_l);
CREATE INDEX steward_decisions_by_right ON steward_decisions (source_r, record_r);

-- A pair is queued once: each run and each placement looks it up.
CREATE INDEX review_queue_by_pair ON review_queue (source_l, record_l, source_r, record_r);

-- Withdrawn records, few among many, found at once by each linkage run.
CREATE INDEX records_withdrawn ON records (source_id, record_id) WHERE withdrawn <> 0;

-- A first linkage run writes a million links; their per-row foreign-key
-- check on persons cost more than the COPY itself. The linkage transaction
-- writes the persons before the links that name them.
ALTER TABLE person_links DROP CONSTRAINT person_links_person_id_fkey;

-- Keys compare byte by byte, as on SQLite and in Wherry's own sorting: the
-- same order on both backends, and index maintenance without the locale's
-- string comparison (most of a large ingest's index time).
ALTER TABLE records ALTER COLUMN source_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C";
ALTER TABLE record_versions ALTER COLUMN source_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C";
ALTER TABLE person_links ALTER COLUMN source_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C",
    ALTER COLUMN person_id TYPE TEXT COLLATE "C";
ALTER TABLE persons ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE contact_events ALTER COLUMN source_id TYPE TEXT COLLATE "C", ALTER COLUMN record_id TYPE TEXT COLLATE "C";
ALTER TABLE review_queue ALTER COLUMN source_l TYPE TEXT COLLATE "C", ALTER COLUMN record_l TYPE TEXT COLLATE "C",
    ALTER COLUMN source_r TYPE TEXT COLLATE "C", ALTER COLUMN record_r TYPE TEXT COLLATE "C";
ALTER TABLE steward_decisions ALTER COLUMN source_l TYPE TEXT COLLATE "C", ALTER COLUMN record_l TYPE TEXT COLLATE "C",
    ALTER COLUMN source_r TYPE TEXT COLLATE "C", ALTER COLUMN record_r TYPE TEXT COLLATE "C";
