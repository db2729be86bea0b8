-- A device's latest ChirpStack status report (issue 14): its battery as
-- the network server last heard it, whether it is mains powered, and its
-- link margin. Kept on the device's row, so it goes with the device.
ALTER TABLE sensor_devices ADD COLUMN status_ms BIGINT;
ALTER TABLE sensor_devices ADD COLUMN status_battery DOUBLE PRECISION;
ALTER TABLE sensor_devices ADD COLUMN status_external_power BOOLEAN;
ALTER TABLE sensor_devices ADD COLUMN status_margin INTEGER;
