//! What a device's payload says, with the vendor decoder's field names, so
//! that `wherry device decode` prints what the vendor's own decoder prints.

use std::collections::BTreeMap;

use serde::Serialize;

/// A decoded payload, one variant per model. Serialises to the vendor
/// decoder's JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reading {
    /// Milesight WS52x smart socket (the kettle's plug).
    SmartSocket(SmartSocket),
    /// Milesight WS301 magnetic contact (medication drawer, front door).
    Contact(Contact),
    /// Milesight WS202 PIR and light sensor.
    Motion(Motion),
    /// Milesight EM300-TH temperature and humidity sensor.
    Climate(Climate),
    /// Milesight VS133 people counter (library footfall).
    PeopleCounter(PeopleCounter),
    /// Parametric PCR2 radar counter (roadside traffic).
    RadarCounter(RadarCounter),
}

impl Reading {
    /// The battery level in percent, where the payload carries one.
    pub fn battery(&self) -> Option<u8> {
        match self {
            Reading::Contact(c) => c.battery,
            Reading::Motion(m) => m.battery,
            Reading::Climate(c) => c.battery,
            _ => None,
        }
    }

    /// The device information channels, for Milesight devices.
    pub fn device_info(&self) -> Option<&DeviceInfo> {
        match self {
            Reading::SmartSocket(r) => Some(&r.info),
            Reading::Contact(r) => Some(&r.info),
            Reading::Motion(r) => Some(&r.info),
            Reading::Climate(r) => Some(&r.info),
            Reading::PeopleCounter(r) => Some(&r.info),
            Reading::RadarCounter(_) => None,
        }
    }
}

/// A version `vMAJOR.MINOR`, as Milesight decoders print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Major number.
    pub major: u8,
    /// Minor number.
    pub minor: u8,
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("v{}.{}", self.major, self.minor))
    }
}

/// The LoRaWAN class a device reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LorawanClass {
    /// Class A.
    #[serde(rename = "Class A")]
    A,
    /// Class B.
    #[serde(rename = "Class B")]
    B,
    /// Class C.
    #[serde(rename = "Class C")]
    C,
    /// Class C to B.
    #[serde(rename = "Class CtoB")]
    CtoB,
}

/// Milesight's device-information channels (channel id 0xff), sent after
/// joining and on request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceInfo {
    /// Protocol version (0xff 0x01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipso_version: Option<Version>,
    /// Hardware version (0xff 0x09).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hardware_version: Option<Version>,
    /// Firmware version (0xff 0x0a).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<Version>,
    /// Power on (0xff 0x0b).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_status: Option<OnOff>,
    /// LoRaWAN class (0xff 0x0f).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lorawan_class: Option<LorawanClass>,
    /// Serial number (0xff 0x16), 16 hex digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sn: Option<String>,
    /// Thing specification version (0xff 0xff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsl_version: Option<Version>,
}

macro_rules! two_states {
    ($(#[$doc:meta])* $name:ident { $(#[$d0:meta])* $off:ident = $off_s:literal, $(#[$d1:meta])* $on:ident = $on_s:literal }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub enum $name {
            $(#[$d0])*
            #[serde(rename = $off_s)]
            $off,
            $(#[$d1])*
            #[serde(rename = $on_s)]
            $on,
        }

        impl $name {
            /// The state a byte stands for, as the vendor reads it.
            pub fn from_byte(b: u8) -> Self {
                if b == 0 { Self::$off } else { Self::$on }
            }

            /// The byte the device sends for this state.
            pub fn byte(self) -> u8 {
                match self {
                    Self::$off => 0,
                    Self::$on => 1,
                }
            }
        }
    };
}

two_states!(
    /// On or off.
    OnOff { /// Off.
        Off = "off", /// On.
        On = "on" }
);
two_states!(
    /// A contact: closed or open.
    DoorState { /// Closed.
        Close = "close", /// Open.
        Open = "open" }
);
two_states!(
    /// Whether the WS301 is fitted (the vendor: 0 is "yes").
    Installed { /// Fitted.
        Yes = "yes", /// Not fitted.
        No = "no" }
);
two_states!(
    /// The PIR's state.
    PirState { /// No movement.
        Normal = "normal", /// Movement.
        Trigger = "trigger" }
);
two_states!(
    /// The light sensor's state.
    LightState { /// Dark.
        Dark = "dark", /// Light.
        Light = "light" }
);

/// WS52x smart socket. The field names are those of the vendor's decoder in
/// The Things Network's device repository (`power` is the power factor).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SmartSocket {
    /// Device information.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Volts (0x03 0x74, tenths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voltage: Option<f64>,
    /// Watts drawn now (0x04 0x80).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_power: Option<u32>,
    /// Power factor, percent (0x05 0x81).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<u8>,
    /// Energy used since reset, watt-hours (0x06 0x83).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy: Option<u32>,
    /// Milliamps (0x07 0xc9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<u16>,
    /// Socket state (0x08 0x70): "open" is switched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button: Option<DoorState>,
}

/// WS301 magnetic contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Contact {
    /// Device information.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Battery, percent (0x01 0x75).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    /// Contact state (0x03 0x00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub door: Option<DoorState>,
    /// Installation state (0x04 0x00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<Installed>,
}

/// WS202 PIR and light sensor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Motion {
    /// Device information.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Battery, percent (0x01 0x75).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    /// Motion (0x03 0x00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pir: Option<PirState>,
    /// Light (0x04 0x00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub light: Option<LightState>,
}

/// EM300-TH temperature and humidity sensor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Climate {
    /// Device information.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Battery, percent (0x01 0x75).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    /// Degrees Celsius (0x03 0x67, signed tenths).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Relative humidity, percent (0x04 0x68, halves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub humidity: Option<f64>,
    /// Readings stored while the network was unreachable (0x20 0xce).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<ClimateHistory>,
}

/// One stored EM300-TH reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClimateHistory {
    /// Unix seconds.
    pub timestamp: u32,
    /// Degrees Celsius.
    pub temperature: f64,
    /// Relative humidity, percent.
    pub humidity: f64,
}

/// VS133 people counter: up to four counting lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeopleCounter {
    /// Device information.
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// Lines `line_1` to `line_4`.
    #[serde(flatten)]
    pub lines: BTreeMap<String, CountingLine>,
}

impl PeopleCounter {
    /// Line `n` (1 to 4), created if absent.
    pub fn line_mut(&mut self, n: u8) -> &mut CountingLine {
        self.lines.entry(format!("line_{n}")).or_default()
    }
}

/// One VS133 counting line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CountingLine {
    /// People in since the counter was reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_in: Option<u32>,
    /// People out since the counter was reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_out: Option<u32>,
    /// People in during the last reporting period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_in: Option<u16>,
    /// People out during the last reporting period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_out: Option<u16>,
}

/// PCR2 radar counter, application payload v3 or v4 (fPort 14). Field names
/// are the vendor decoder's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(non_snake_case)]
pub struct RadarCounter {
    /// Payload version, 3 or 4 (not printed by the vendor's decoder).
    #[serde(skip)]
    pub version: u8,
    /// Objects left to right in the last period.
    pub LTR: u16,
    /// Objects right to left in the last period.
    pub RTL: u16,
    /// Left to right since power-up (wraps at 65,536).
    pub LTR_SUM: u16,
    /// Right to left since power-up (wraps at 65,536).
    pub RTL_SUM: u16,
    /// Solar charger battery: gauge in v3 (one byte), millivolts in v4.
    pub SBX_BATT: u16,
    /// Solar panel power, milliwatts.
    pub SBX_PV: u16,
    /// |LTR_SUM − RTL_SUM|.
    pub DIFF: u16,
    /// CPU temperature, whole degrees Celsius (rounded down).
    pub TEMP: i16,
}
