-- A counter bumped by every change the real-time matcher did not make
-- itself (an ingest, a linkage run, erasure, retention), so a running
-- server knows when to re-read its index.
CREATE TABLE hub_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO hub_generation (id, n) VALUES (1, 0);
