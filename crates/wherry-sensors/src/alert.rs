//! What an alert is: its kind (wellbeing or technical, urgency, the
//! device use behind it) and what it says (expected, observed, episode).

use serde::Serialize;

use crate::registry::Use;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// No kettle use by the usual time plus a margin.
    KettleNotUsed,
    /// The medication drawer not opened by its usual time plus a margin.
    MedicationNotTaken,
    /// No movement for hours the resident is usually up.
    NoMovement,
    /// The front door opened at night.
    NightDoor,
    /// The room cold for hours.
    ColdHome,
    /// A device not heard for three reporting intervals.
    DeviceSilent,
    /// A device's battery low.
    BatteryLow,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::KettleNotUsed,
        AlertKind::MedicationNotTaken,
        AlertKind::NoMovement,
        AlertKind::NightDoor,
        AlertKind::ColdHome,
        AlertKind::DeviceSilent,
        AlertKind::BatteryLow,
    ];

    /// The code in the store, the API and the care system's feed.
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::KettleNotUsed => "kettle_not_used",
            AlertKind::MedicationNotTaken => "medication_not_taken",
            AlertKind::NoMovement => "no_movement",
            AlertKind::NightDoor => "night_door",
            AlertKind::ColdHome => "cold_home",
            AlertKind::DeviceSilent => "device_silent",
            AlertKind::BatteryLow => "battery_low",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// About the resident's wellbeing (else about a device).
    pub fn is_wellbeing(self) -> bool {
        !matches!(self, AlertKind::DeviceSilent | AlertKind::BatteryLow)
    }

    /// The use of the device whose readings raise it (none for movement,
    /// which any device in the home shows, and for device alerts, which
    /// name their device).
    pub fn source_use(self) -> Option<Use> {
        match self {
            AlertKind::KettleNotUsed => Some(Use::Kettle),
            AlertKind::MedicationNotTaken => Some(Use::MedicationDrawer),
            AlertKind::NightDoor => Some(Use::FrontDoor),
            AlertKind::ColdHome => Some(Use::RoomTemperature),
            AlertKind::NoMovement | AlertKind::DeviceSilent | AlertKind::BatteryLow => None,
        }
    }

    /// Urgency, 1 (most) to 3, for ordering a team's list.
    pub fn urgency(self) -> u8 {
        match self {
            AlertKind::NoMovement | AlertKind::ColdHome | AlertKind::NightDoor => 1,
            AlertKind::KettleNotUsed | AlertKind::MedicationNotTaken => 2,
            AlertKind::DeviceSilent | AlertKind::BatteryLow => 3,
        }
    }
}

/// An alert raised: what was expected, what happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The resident.
    pub person_id: String,
    /// What it is about.
    pub kind: AlertKind,
    /// The episode: an alert is raised once per episode.
    pub episode: String,
    /// When the condition was met (Unix ms): the deadline for deadline rules.
    pub at_ms: i64,
    /// The device, for technical alerts and the reading behind the others.
    pub dev_eui: Option<String>,
    /// What the routine expected.
    pub expected: String,
    /// What happened.
    pub observed: String,
}
