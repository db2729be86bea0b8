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
