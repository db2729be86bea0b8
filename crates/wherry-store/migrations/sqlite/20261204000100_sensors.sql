-- Sensors (issue 14): the device registry, every uplink stored once, and
-- devices the hub heard but does not know.
CREATE TABLE sensor_devices (
    dev_eui TEXT PRIMARY KEY,              -- 16 lower-case hex digits
    model TEXT NOT NULL,                   -- wherry_lorawan::Model id
    use_kind TEXT NOT NULL,                -- kettle, medication_drawer, …, traffic
    person_id TEXT,                        -- home devices: the resident
    consent_ref TEXT,                      -- home devices: the recorded consent
    consent_withdrawn_ms INTEGER,          -- set: no uplink is processed
    place TEXT,                            -- counters: the site's name
    lat REAL,
    lon REAL,
    added_ms INTEGER NOT NULL,
    added_by TEXT NOT NULL
);
CREATE INDEX sensor_devices_person ON sensor_devices (person_id);

CREATE TABLE sensor_uplinks (
    id INTEGER PRIMARY KEY,
    dev_eui TEXT NOT NULL,
    f_cnt INTEGER NOT NULL,
    dedup_window INTEGER NOT NULL,         -- time_ms / ten minutes
    time_ms INTEGER NOT NULL,              -- the network's time, or arrival
    received_ms INTEGER NOT NULL,          -- when the hub stored it
    network TEXT NOT NULL,                 -- chirpstack, the_things_stack
    f_port INTEGER NOT NULL,
    payload TEXT NOT NULL,                 -- hex
    reading TEXT NOT NULL,                 -- the decoded reading, JSON
    battery REAL,                          -- percent, where the payload says
    rssi INTEGER,
    UNIQUE (dev_eui, f_cnt, dedup_window)
);
CREATE INDEX sensor_uplinks_device_time ON sensor_uplinks (dev_eui, time_ms);

CREATE TABLE sensor_unregistered (
    dev_eui TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    uplinks INTEGER NOT NULL
);
