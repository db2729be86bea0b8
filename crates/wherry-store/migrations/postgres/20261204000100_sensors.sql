-- Sensors (issue 14): the device registry, every uplink stored once, and
-- devices the hub heard but does not know.
CREATE TABLE sensor_devices (
    dev_eui TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    use_kind TEXT NOT NULL,
    person_id TEXT,
    consent_ref TEXT,
    consent_withdrawn_ms BIGINT,
    place TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    added_ms BIGINT NOT NULL,
    added_by TEXT NOT NULL
);
CREATE INDEX sensor_devices_person ON sensor_devices (person_id);

CREATE TABLE sensor_uplinks (
    id BIGSERIAL PRIMARY KEY,
    dev_eui TEXT NOT NULL,
    f_cnt BIGINT NOT NULL,
    dedup_window BIGINT NOT NULL,
    time_ms BIGINT NOT NULL,
    received_ms BIGINT NOT NULL,
    network TEXT NOT NULL,
    f_port INTEGER NOT NULL,
    payload TEXT NOT NULL,
    reading TEXT NOT NULL,
    battery DOUBLE PRECISION,
    rssi INTEGER,
    UNIQUE (dev_eui, f_cnt, dedup_window)
);
CREATE INDEX sensor_uplinks_device_time ON sensor_uplinks (dev_eui, time_ms);

CREATE TABLE sensor_unregistered (
    dev_eui TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    first_ms BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    uplinks BIGINT NOT NULL
);
