-- The team a contact was made by and the team's telephone number, where
-- the partner shares them (issue 13: the advisor can ring the right team).
ALTER TABLE contact_events ADD COLUMN team TEXT;
ALTER TABLE contact_events ADD COLUMN team_phone TEXT;
