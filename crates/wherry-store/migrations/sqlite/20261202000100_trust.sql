-- Issue 12 (trust). A partner system's account is bound to the sources it
-- may push for (a JSON array of source ids; empty for people).
ALTER TABLE users ADD COLUMN sources TEXT NOT NULL DEFAULT '[]';
