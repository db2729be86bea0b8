-- Sensor alerts (issue 14): one row an episode (the UNIQUE key is what
-- stops an alert repeating, also across restarts), its lifecycle, the
-- care-system webhook's outbox, and thresholds adjusted per resident.
CREATE TABLE sensor_alerts (
    id BIGSERIAL PRIMARY KEY,
    person_id TEXT NOT NULL,
    kind TEXT NOT NULL,                    -- kettle_not_used, …, battery_low
    episode TEXT NOT NULL,                 -- the day, the spell's start, …
    wellbeing BIGINT NOT NULL,            -- 1 wellbeing, 0 technical
    urgency BIGINT NOT NULL,              -- 1 most urgent
    due_ms BIGINT NOT NULL,               -- when the condition was met
    raised_ms BIGINT NOT NULL,            -- when the hub raised it
    dev_eui TEXT,
    expected TEXT NOT NULL,
    observed TEXT NOT NULL,
    status TEXT NOT NULL,                  -- open, acknowledged, resolved
    acknowledged_by TEXT,
    acknowledged_ms BIGINT,
    acknowledged_note TEXT,
    resolved_by TEXT,
    resolved_ms BIGINT,
    resolved_note TEXT,
    UNIQUE (person_id, kind, episode)
);
CREATE INDEX sensor_alerts_status ON sensor_alerts (status, urgency, due_ms);

CREATE TABLE sensor_alert_deliveries (
    alert_id BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_ms BIGINT NOT NULL,
    delivered_ms BIGINT,
    last_error TEXT
);
CREATE INDEX sensor_alert_deliveries_due ON sensor_alert_deliveries (delivered_ms, next_ms);

CREATE TABLE sensor_thresholds (
    person_id TEXT PRIMARY KEY,
    thresholds TEXT NOT NULL,              -- JSON, wherry_sensors::Thresholds
    set_by TEXT NOT NULL,
    set_ms BIGINT NOT NULL
);
