-- Contacts are counted per record, service and month in the database
-- (demand by area, open data): an index holding every column those counts
-- read lets them come from the index alone, not a table lookup per
-- contact (the lookups were a third of a million-resident county's demand
-- report). It leads with the old index's columns, which it replaces.
CREATE INDEX contact_events_by_record_date ON contact_events (source_id, record_id, event_date, service);
DROP INDEX contact_events_by_record;
