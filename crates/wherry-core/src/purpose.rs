//! Who may see what, and why: the purposes data may be used for, the roles
//! of the people who use Wherry, and a data sharing agreement's grants per
//! purpose (which canonical fields, attributes and contact events that
//! purpose may see).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal $(| $alias:literal)*,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $(#[serde(alias = $alias)])* $variant,)*
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            /// Every value's name, in order.
            pub const NAMES: &'static [&'static str] = &[$($text,)*];

            /// The name used in manifests, headers and the store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text $(| $alias)* => Ok($name::$variant),)*
                    _ => Err(format!(
                        "unknown {}; expected one of: {}",
                        stringify!($name).to_lowercase(),
                        Self::NAMES.join(", ")
                    )),
                }
            }
        }
    };
}

named_enum! {
    /// What data is being used for; every read of personal data names one.
    Purpose {
        /// Care of the person by the service caring for them.
        DirectCare = "direct_care",
        /// Protecting a person at risk of harm.
        Safeguarding = "safeguarding",
        /// Home fire safety visits and fire risk targeting.
        FirePrevention = "fire_prevention",
        /// Answering a resident's call.
        ContactCentre = "contact_centre",
        /// Keeping records right: linkage and the review queue
        /// (`record_matching` is another name for it).
        DataQuality = "data_quality" | "record_matching",
        /// Service planning, on pseudonymised data.
        Planning = "planning",
        /// Approved research, on pseudonymised data.
        Research = "research",
        /// Answering a resident's data protection rights: subject access,
        /// erasure, retention.
        SubjectRights = "subject_rights",
    }
}

named_enum! {
    /// What a user does.
    Role {
        /// A contact centre advisor.
        Advisor = "advisor",
        /// A social care or health caseworker.
        Caseworker = "caseworker",
        /// A fire prevention officer.
        FirePrevention = "fire_prevention",
        /// A data steward.
        Steward = "steward",
        /// An analyst (pseudonymised data only).
        Analyst = "analyst",
        /// The technology-enabled care team (home sensors).
        TecTeam = "tec_team",
        /// An administrator (users, the audit log).
        Admin = "admin",
        /// A partner's system pushing records and following changes.
        PartnerSystem = "partner_system",
    }
}

impl Role {
    /// The purposes a role may use unless configured otherwise.
    pub fn default_purposes(self) -> &'static [Purpose] {
        use Purpose as P;
        match self {
            Role::Advisor => &[P::ContactCentre],
            Role::Caseworker => &[P::DirectCare, P::Safeguarding],
            Role::FirePrevention => &[P::FirePrevention],
            Role::Steward => &[P::DataQuality],
            Role::Analyst => &[P::Planning, P::Research],
            Role::TecTeam => &[P::DirectCare],
            Role::Admin => &[P::SubjectRights],
            Role::PartnerSystem => &[P::DirectCare],
        }
    }

    /// The purposes the role may break glass into by default (a written
    /// reason, reviewed by the data protection officer): safeguarding for
    /// the roles that meet residents in trouble, nothing for the others.
    pub fn default_break_glass(self) -> &'static [Purpose] {
        use Purpose as P;
        match self {
            Role::Advisor | Role::FirePrevention | Role::TecTeam | Role::Caseworker => {
                &[P::Safeguarding]
            }
            Role::Steward | Role::Analyst | Role::Admin | Role::PartnerSystem => &[],
        }
    }

    /// Whether the role sees pseudonymised data only.
    pub fn pseudonymised_only(self) -> bool {
        self == Role::Analyst
    }
}

/// The data sharing agreement under which a source is shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// UK GDPR Article 6(1) basis.
    pub lawful_basis: String,
    /// UK GDPR Article 9(2) condition, for special category data.
    #[serde(default)]
    pub special_category_condition: Option<String>,
    /// Years records are kept after they were last received.
    pub retention_years: u32,
    /// The partner's contact for the agreement.
    pub contact: String,
    /// When the agreement is next reviewed (YYYY-MM-DD).
    pub review_date: String,
    /// Purpose → what it may see.
    pub purposes: BTreeMap<String, PurposeGrant>,
}

impl Agreement {
    /// What `purpose` may see of this source (nothing, if the agreement
    /// does not name it).
    pub fn grant(&self, purpose: Purpose) -> Option<&PurposeGrant> {
        self.purposes.get(purpose.as_str())
    }
}

/// What one purpose may see.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeGrant {
    /// Canonical fields.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<String>,
    /// Whether contact events may be seen.
    #[serde(default)]
    pub events: bool,
    /// What of the home sensor service may be seen ([`SENSOR_SHARES`]):
    /// granted by the sensor service's own agreement (`tec_sensors`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensors: Vec<String>,
}

/// What a purpose may be granted of the home sensor service: alerts (what
/// was expected, what happened), readings (every uplink's values) and
/// devices (model, use, battery, last seen).
pub const SENSOR_SHARES: [&str; 3] = ["alerts", "readings", "devices"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for p in Purpose::ALL {
            assert_eq!(p.as_str().parse::<Purpose>(), Ok(*p));
        }
        for r in Role::ALL {
            assert_eq!(r.to_string().parse::<Role>(), Ok(*r));
        }
        let err = "marketing".parse::<Purpose>().unwrap_err();
        assert!(err.contains("direct_care"), "{err}");
        assert!("Advisor".parse::<Role>().is_err(), "names are exact");
    }

    #[test]
    fn the_default_purposes_are_the_issues() {
        assert_eq!(Role::Advisor.default_purposes(), [Purpose::ContactCentre]);
        assert_eq!(
            Role::Caseworker.default_purposes(),
            [Purpose::DirectCare, Purpose::Safeguarding]
        );
        assert!(Role::Analyst.pseudonymised_only());
        assert!(!Role::Caseworker.pseudonymised_only());
        assert_eq!(Role::Admin.default_purposes(), [Purpose::SubjectRights]);
    }
}
