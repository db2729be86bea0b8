//! Milesight's channel format: the payload is a run of channels, each a
//! channel id byte, a channel type byte and a value of a length the pair
//! fixes, little-endian. Implemented from the vendor's published decoders
//! (The Things Network's device repository, `vendor/milesight-iot`). Where
//! the vendor's decoder stops silently at an unknown channel or reads past
//! the end, this one says which byte.

use crate::bytes::{Cursor, DecodeError, DecodeErrorKind};
use crate::reading::{
    Climate, ClimateHistory, Contact, DeviceInfo, DoorState, Installed, LightState, LorawanClass,
    Motion, OnOff, PeopleCounter, PirState, SmartSocket, Version,
};

/// Runs `on_channel` for each channel; it returns `Ok(false)` for a channel
/// the model does not send. The device-information channels (0xff) are
/// read here for every model.
fn channels(
    bytes: &[u8],
    info: &mut DeviceInfo,
    mut on_channel: impl FnMut(u8, u8, &mut Cursor<'_>) -> Result<bool, DecodeError>,
) -> Result<(), DecodeError> {
    let mut c = Cursor::new(bytes);
    if c.is_done() {
        return Err(c.error(DecodeErrorKind::Empty));
    }
    while !c.is_done() {
        let start = c.offset();
        let id = c.u8("a channel id")?;
        let kind = c.u8("a channel type")?;
        let known = if id == 0xff {
            device_info(kind, &mut c, info)?
        } else {
            on_channel(id, kind, &mut c)?
        };
        if !known {
            return Err(DecodeError {
                offset: start,
                kind: DecodeErrorKind::UnknownChannel { id, kind },
            });
        }
    }
    Ok(())
}

fn device_info(kind: u8, c: &mut Cursor<'_>, info: &mut DeviceInfo) -> Result<bool, DecodeError> {
    match kind {
        0x01 => {
            let b = c.u8("ipso_version")?;
            info.ipso_version = Some(Version {
                major: b >> 4,
                minor: b & 0x0f,
            });
        }
        0x09 => {
            let b = c.take(2, "hardware_version")?;
            info.hardware_version = Some(Version {
                major: b[0],
                minor: b[1] >> 4,
            });
        }
        0x0a => {
            let b = c.take(2, "firmware_version")?;
            info.firmware_version = Some(Version {
                major: b[0],
                minor: b[1],
            });
        }
        0x0b => info.device_status = Some(OnOff::from_byte(c.u8("device_status")?)),
        0x0f => {
            info.lorawan_class = Some(match c.u8("lorawan_class")? {
                0 => LorawanClass::A,
                1 => LorawanClass::B,
                2 => LorawanClass::C,
                _ => LorawanClass::CtoB,
            })
        }
        0x16 => info.sn = Some(crate::bytes::to_hex(c.take(8, "sn")?)),
        0xff => {
            let b = c.take(2, "tsl_version")?;
            info.tsl_version = Some(Version {
                major: b[0],
                minor: b[1],
            });
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A WS52x smart socket's payload.
pub fn decode_ws52x(bytes: &[u8]) -> Result<SmartSocket, DecodeError> {
    let mut r = SmartSocket::default();
    let mut info = DeviceInfo::default();
    channels(bytes, &mut info, |id, kind, c| {
        match (id, kind) {
            (0x03, 0x74) => r.voltage = Some(f64::from(c.u16_le("voltage")?) / 10.0),
            (0x04, 0x80) => r.active_power = Some(c.u32_le("active_power")?),
            (0x05, 0x81) => r.power = Some(c.u8("power")?),
            (0x06, 0x83) => r.energy = Some(c.u32_le("energy")?),
            (0x07, 0xc9) => r.current = Some(c.u16_le("current")?),
            (0x08, 0x70) => {
                // The vendor's decoder: 1 is "open" (on), anything else "close".
                let b = c.u8("button")?;
                r.button = Some(if b == 1 {
                    DoorState::Open
                } else {
                    DoorState::Close
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    r.info = info;
    Ok(r)
}

/// The layout the WS301 and WS202 share: battery (0x01 0x75) and two
/// one-byte states (0x03 0x00, 0x04 0x00), named for the model.
struct TwoStates {
    info: DeviceInfo,
    battery: Option<u8>,
    first: Option<u8>,
    second: Option<u8>,
}

fn decode_two_states(
    bytes: &[u8],
    first: &'static str,
    second: &'static str,
) -> Result<TwoStates, DecodeError> {
    let mut r = TwoStates {
        info: DeviceInfo::default(),
        battery: None,
        first: None,
        second: None,
    };
    let mut info = DeviceInfo::default();
    channels(bytes, &mut info, |id, kind, c| {
        match (id, kind) {
            (0x01, 0x75) => r.battery = Some(c.u8("battery")?),
            (0x03, 0x00) => r.first = Some(c.u8(first)?),
            (0x04, 0x00) => r.second = Some(c.u8(second)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    r.info = info;
    Ok(r)
}

/// A WS301 magnetic contact's payload.
pub fn decode_ws301(bytes: &[u8]) -> Result<Contact, DecodeError> {
    let r = decode_two_states(bytes, "door", "install")?;
    Ok(Contact {
        info: r.info,
        battery: r.battery,
        door: r.first.map(DoorState::from_byte),
        install: r.second.map(Installed::from_byte),
    })
}

/// A WS202 PIR and light sensor's payload.
pub fn decode_ws202(bytes: &[u8]) -> Result<Motion, DecodeError> {
    let r = decode_two_states(bytes, "pir", "light")?;
    Ok(Motion {
        info: r.info,
        battery: r.battery,
        pir: r.first.map(PirState::from_byte),
        light: r.second.map(LightState::from_byte),
    })
}

/// An EM300-TH's payload.
pub fn decode_em300_th(bytes: &[u8]) -> Result<Climate, DecodeError> {
    let mut r = Climate::default();
    let mut info = DeviceInfo::default();
    channels(bytes, &mut info, |id, kind, c| {
        match (id, kind) {
            (0x01, 0x75) => r.battery = Some(c.u8("battery")?),
            (0x03, 0x67) => r.temperature = Some(tenths(c.u16_le("temperature")?)),
            (0x04, 0x68) => r.humidity = Some(f64::from(c.u8("humidity")?) / 2.0),
            (0x20, 0xce) => {
                let timestamp = c.u32_le("history timestamp")?;
                let temperature = tenths(c.u16_le("history temperature")?);
                let humidity = f64::from(c.u8("history humidity")?) / 2.0;
                r.history.push(ClimateHistory {
                    timestamp,
                    temperature,
                    humidity,
                });
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    r.info = info;
    Ok(r)
}

/// A VS133 people counter's payload.
pub fn decode_vs133(bytes: &[u8]) -> Result<PeopleCounter, DecodeError> {
    let mut r = PeopleCounter::default();
    let mut info = DeviceInfo::default();
    channels(bytes, &mut info, |id, kind, c| {
        // Lines 1–4 use channels 0x03–0x0e, three a line: total in, total
        // out, period counts.
        if !(0x03..=0x0e).contains(&id) {
            return Ok(false);
        }
        let line = (id - 0x03) / 3 + 1;
        match ((id - 0x03) % 3, kind) {
            (0, 0xd2) => r.line_mut(line).total_in = Some(c.u32_le("total_in")?),
            (1, 0xd2) => r.line_mut(line).total_out = Some(c.u32_le("total_out")?),
            (2, 0xcc) => {
                let period_in = c.u16_le("period_in")?;
                let period_out = c.u16_le("period_out")?;
                let l = r.line_mut(line);
                l.period_in = Some(period_in);
                l.period_out = Some(period_out);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    r.info = info;
    Ok(r)
}

fn tenths(raw: u16) -> f64 {
    f64::from(raw as i16) / 10.0
}

/// Writes channels in the Milesight layout.
#[derive(Debug, Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn channel(&mut self, id: u8, kind: u8, value: &[u8]) {
        self.0.push(id);
        self.0.push(kind);
        self.0.extend_from_slice(value);
    }

    fn info(&mut self, info: &DeviceInfo) {
        if let Some(v) = info.ipso_version {
            self.channel(0xff, 0x01, &[(v.major << 4) | (v.minor & 0x0f)]);
        }
        if let Some(v) = info.hardware_version {
            self.channel(0xff, 0x09, &[v.major, v.minor << 4]);
        }
        if let Some(v) = info.firmware_version {
            self.channel(0xff, 0x0a, &[v.major, v.minor]);
        }
        if let Some(s) = info.device_status {
            self.channel(0xff, 0x0b, &[s.byte()]);
        }
        if let Some(class) = info.lorawan_class {
            let b = match class {
                LorawanClass::A => 0,
                LorawanClass::B => 1,
                LorawanClass::C => 2,
                LorawanClass::CtoB => 3,
            };
            self.channel(0xff, 0x0f, &[b]);
        }
        if let Some(sn) = &info.sn {
            let bytes = crate::bytes::from_hex(sn).unwrap_or_default();
            let mut b = [0u8; 8];
            for (to, from) in b.iter_mut().zip(bytes) {
                *to = from;
            }
            self.channel(0xff, 0x16, &b);
        }
        if let Some(v) = info.tsl_version {
            self.channel(0xff, 0xff, &[v.major, v.minor]);
        }
    }
}

fn tenths_bytes(value: f64) -> [u8; 2] {
    ((value * 10.0).round() as i16).to_le_bytes()
}

/// A WS52x payload carrying `r`.
pub fn encode_ws52x(r: &SmartSocket) -> Vec<u8> {
    let mut w = Writer::default();
    w.info(&r.info);
    if let Some(v) = r.voltage {
        w.channel(0x03, 0x74, &((v * 10.0).round() as u16).to_le_bytes());
    }
    if let Some(v) = r.active_power {
        w.channel(0x04, 0x80, &v.to_le_bytes());
    }
    if let Some(v) = r.power {
        w.channel(0x05, 0x81, &[v]);
    }
    if let Some(v) = r.energy {
        w.channel(0x06, 0x83, &v.to_le_bytes());
    }
    if let Some(v) = r.current {
        w.channel(0x07, 0xc9, &v.to_le_bytes());
    }
    if let Some(v) = r.button {
        w.channel(0x08, 0x70, &[v.byte()]);
    }
    w.0
}

fn encode_two_states(
    info: &DeviceInfo,
    battery: Option<u8>,
    first: Option<u8>,
    second: Option<u8>,
) -> Vec<u8> {
    let mut w = Writer::default();
    w.info(info);
    if let Some(v) = battery {
        w.channel(0x01, 0x75, &[v]);
    }
    if let Some(v) = first {
        w.channel(0x03, 0x00, &[v]);
    }
    if let Some(v) = second {
        w.channel(0x04, 0x00, &[v]);
    }
    w.0
}

/// A WS301 payload carrying `r`.
pub fn encode_ws301(r: &Contact) -> Vec<u8> {
    encode_two_states(
        &r.info,
        r.battery,
        r.door.map(DoorState::byte),
        r.install.map(Installed::byte),
    )
}

/// A WS202 payload carrying `r`.
pub fn encode_ws202(r: &Motion) -> Vec<u8> {
    encode_two_states(
        &r.info,
        r.battery,
        r.pir.map(PirState::byte),
        r.light.map(LightState::byte),
    )
}

/// An EM300-TH payload carrying `r`.
pub fn encode_em300_th(r: &Climate) -> Vec<u8> {
    let mut w = Writer::default();
    w.info(&r.info);
    if let Some(v) = r.battery {
        w.channel(0x01, 0x75, &[v]);
    }
    if let Some(v) = r.temperature {
        w.channel(0x03, 0x67, &tenths_bytes(v));
    }
    if let Some(v) = r.humidity {
        w.channel(0x04, 0x68, &[(v * 2.0).round() as u8]);
    }
    for h in &r.history {
        let mut value = h.timestamp.to_le_bytes().to_vec();
        value.extend_from_slice(&tenths_bytes(h.temperature));
        value.push((h.humidity * 2.0).round() as u8);
        w.channel(0x20, 0xce, &value);
    }
    w.0
}

/// A VS133 payload carrying `r` (lines named other than `line_1` to
/// `line_4` are left out).
pub fn encode_vs133(r: &PeopleCounter) -> Vec<u8> {
    let mut w = Writer::default();
    w.info(&r.info);
    for (name, line) in &r.lines {
        let Some(n) = name
            .strip_prefix("line_")
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=4).contains(n))
        else {
            continue;
        };
        let base = 0x03 + (n - 1) * 3;
        if let Some(v) = line.total_in {
            w.channel(base, 0xd2, &v.to_le_bytes());
        }
        if let Some(v) = line.total_out {
            w.channel(base + 1, 0xd2, &v.to_le_bytes());
        }
        if line.period_in.is_some() || line.period_out.is_some() {
            let mut value = line.period_in.unwrap_or(0).to_le_bytes().to_vec();
            value.extend_from_slice(&line.period_out.unwrap_or(0).to_le_bytes());
            w.channel(base + 2, 0xcc, &value);
        }
    }
    w.0
}
