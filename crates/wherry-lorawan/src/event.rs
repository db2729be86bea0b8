//! An uplink as Wherry keeps it, whichever network server sent it; the
//! de-duplication key; and the text formats the servers use (EUIs, base64,
//! RFC 3339 times).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Which network server an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// ChirpStack v4.
    Chirpstack,
    /// The Things Stack v3.
    TheThingsStack,
}

impl Network {
    /// The code used in metrics and the store.
    pub fn code(self) -> &'static str {
        match self {
            Network::Chirpstack => "chirpstack",
            Network::TheThingsStack => "the_things_stack",
        }
    }
}

/// A device's 64-bit EUI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevEui(pub u64);

impl FromStr for DevEui {
    type Err = EventError;

    /// Sixteen hex digits, either case (ChirpStack sends lower case, The
    /// Things Stack upper case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 16 {
            return Err(EventError::BadDevEui(format!(
                "a devEUI is 16 hex digits, this one has {}",
                s.chars().count()
            )));
        }
        u64::from_str_radix(s, 16)
            .ok()
            .filter(|_| s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(DevEui)
            .ok_or_else(|| EventError::BadDevEui("a devEUI is hex digits only".into()))
    }
}

impl fmt::Display for DevEui {
    /// Lower-case hex, as ChirpStack prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for DevEui {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A gateway that heard an uplink.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reception {
    /// The gateway's id.
    pub gateway_id: String,
    /// Received signal strength, dBm.
    pub rssi: i32,
    /// Signal-to-noise ratio, dB.
    pub snr: f64,
}

/// An uplink: a device's frame with its application payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uplink {
    /// Which network server sent it.
    pub network: Network,
    /// The device.
    pub dev_eui: DevEui,
    /// The frame counter (starts again at 0 after a rejoin).
    pub f_cnt: u32,
    /// The frame port (0 when absent).
    pub f_port: u8,
    /// The application payload.
    #[serde(serialize_with = "as_hex")]
    pub data: Vec<u8>,
    /// When the network received it, Unix milliseconds, where the event says.
    pub time_ms: Option<i64>,
    /// The gateways that heard it.
    pub receptions: Vec<Reception>,
}

fn as_hex<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::bytes::to_hex(data))
}

impl Uplink {
    /// The strongest signal among the gateways that heard it.
    pub fn best_rssi(&self) -> Option<i32> {
        self.receptions.iter().map(|r| r.rssi).max()
    }

    /// The de-duplication key, taking `time_ms` (the event's time, or when
    /// it arrived if the event has none).
    pub fn dedup_key(&self, time_ms: i64) -> DedupKey {
        DedupKey {
            dev_eui: self.dev_eui,
            f_cnt: self.f_cnt,
            window: time_ms.div_euclid(DEDUP_WINDOW_MS),
        }
    }
}

/// A device's status report: battery and link margin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The device.
    pub dev_eui: DevEui,
    /// When, Unix milliseconds, where the event says.
    pub time_ms: Option<i64>,
    /// Battery, percent, unless the device cannot tell or is mains powered.
    pub battery_level: Option<f64>,
    /// Mains powered.
    pub external_power_source: bool,
    /// Link margin, dB.
    pub margin: i32,
}

/// A device (re)joined the network: its frame counter starts again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Join {
    /// The device.
    pub dev_eui: DevEui,
    /// When, Unix milliseconds, where the event says.
    pub time_ms: Option<i64>,
}

/// An event from a network server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An uplink.
    Up(Uplink),
    /// A status report.
    Status(Status),
    /// A join.
    Join(Join),
}

impl Event {
    /// The device the event is about.
    pub fn dev_eui(&self) -> DevEui {
        match self {
            Event::Up(u) => u.dev_eui,
            Event::Status(s) => s.dev_eui,
            Event::Join(j) => j.dev_eui,
        }
    }

    /// The event's own time, Unix milliseconds.
    pub fn time_ms(&self) -> Option<i64> {
        match self {
            Event::Up(u) => u.time_ms,
            Event::Status(s) => s.time_ms,
            Event::Join(j) => j.time_ms,
        }
    }
}

/// Two deliveries of one device's frame counter within this long of each
/// other are one uplink (webhook retries, MQTT redelivery, both paths); the
/// same counter later is a new frame after a rejoin.
pub const DEDUP_WINDOW_MS: i64 = 10 * 60 * 1000;

/// What identifies an uplink across deliveries: the device, its frame
/// counter and the ten-minute window of its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DedupKey {
    /// The device.
    pub dev_eui: DevEui,
    /// The frame counter.
    pub f_cnt: u32,
    /// The window, `time_ms` / [`DEDUP_WINDOW_MS`].
    pub window: i64,
}

impl DedupKey {
    /// The keys a delivery of this uplink may already be stored under: its
    /// own window and the two beside it (a redelivery near a window's edge).
    pub fn neighbours(self) -> [DedupKey; 3] {
        [self.window - 1, self.window, self.window + 1].map(|window| DedupKey { window, ..self })
    }
}

/// Why an event was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// Not JSON, or not the shape of the event.
    InvalidJson(String),
    /// A field the event must have is absent.
    MissingField(&'static str),
    /// The devEUI is not 16 hex digits.
    BadDevEui(String),
    /// The payload is not base64.
    BadBase64(String),
    /// A time that is not RFC 3339.
    BadTime(String),
    /// A number out of range (a port over 255).
    OutOfRange(&'static str),
    /// An event type Wherry does not take.
    UnsupportedEvent(String),
}

impl EventError {
    /// A short code for counting rejections by reason (`/metrics`).
    pub fn reason(&self) -> &'static str {
        match self {
            EventError::InvalidJson(_) => "invalid_json",
            EventError::MissingField(_) => "missing_field",
            EventError::BadDevEui(_) => "bad_dev_eui",
            EventError::BadBase64(_) => "bad_base64",
            EventError::BadTime(_) => "bad_time",
            EventError::OutOfRange(_) => "out_of_range",
            EventError::UnsupportedEvent(_) => "unsupported_event",
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::InvalidJson(why) => write!(f, "the event is not valid JSON: {why}"),
            EventError::MissingField(name) => write!(f, "the event has no {name}"),
            EventError::BadDevEui(why) => write!(f, "bad devEUI: {why}"),
            EventError::BadBase64(why) => write!(f, "the payload is not base64: {why}"),
            EventError::BadTime(why) => write!(f, "bad time: {why}"),
            EventError::OutOfRange(name) => write!(f, "{name} is out of range"),
            EventError::UnsupportedEvent(kind) => {
                write!(f, "Wherry takes up, status and join events, not {kind:?}")
            }
        }
    }
}

impl std::error::Error for EventError {}

/// Standard base64 (RFC 4648, `+` and `/`), padding optional, as both
/// network servers send payloads.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, EventError> {
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 {
        return Err(EventError::BadBase64("more than two '=' at the end".into()));
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (i, c) in body.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => {
                return Err(EventError::BadBase64(format!(
                    "character {} is not in the base64 alphabet",
                    i + 1
                )));
            }
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err(EventError::BadBase64(
            "its length leaves a lone character at the end".into(),
        ));
    }
    Ok(out)
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Unix milliseconds from an RFC 3339 time: `2026-10-07T06:41:09.123456789+00:00`,
/// `…Z`, 0 to 9 fraction digits, any offset.
pub fn parse_time(text: &str) -> Result<i64, EventError> {
    let bad = |why: &str| EventError::BadTime(format!("{why} (RFC 3339 expected)"));
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(bad("too short"));
    }
    let num = |from: usize, len: usize| -> Result<i64, EventError> {
        let s = text.get(from..from + len).ok_or_else(|| bad("cut short"))?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("a date or time part is not digits"));
        }
        s.parse::<i64>().map_err(|_| bad("a number out of range"))
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad("separators are not where they belong"));
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let date = wherry_core::Date::new(year as i32, month as u8, day as u8)
        .map_err(|_| bad("no such date"))?;
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad("no such time of day"));
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let digits = at - start;
        if digits == 0 || digits > 9 {
            return Err(bad("a fraction has 1 to 9 digits"));
        }
        let frac = &text[start..at];
        millis = format!("{frac:0<3}")[..3].parse::<i64>().unwrap_or(0);
    }
    let offset_minutes = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if at + 6 == b.len() && b[at + 3] == b':' => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return Err(bad("no such offset"));
            }
            let total = h * 60 + m;
            if *sign == b'-' { -total } else { total }
        }
        _ => return Err(bad("no offset (Z or ±hh:mm) at the end")),
    };
    let seconds = date.days_since_epoch() * 86_400 + hour * 3600 + minute * 60 + second.min(59)
        - offset_minutes * 60;
    Ok(seconds * 1000 + millis)
}

/// RFC 3339 in UTC with milliseconds and `+00:00`, as ChirpStack prints.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let date = wherry_core::Date::from_days_since_epoch(secs.div_euclid(86_400));
    let rest = secs.rem_euclid(86_400);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        date.year(),
        date.month(),
        date.day(),
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        ms.rem_euclid(1000)
    )
}
