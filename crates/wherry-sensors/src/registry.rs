//! The device registry: what each device is used for, and the checks made
//! before one is stored.

use std::fmt;
use std::str::FromStr;

use wherry_access::{Access, Caller};
use wherry_lorawan::{DevEui, Model};
use wherry_store::Store;
use wherry_store::sensors::Device;

/// What a device is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Use {
    /// The kettle's smart plug.
    Kettle,
    /// The medication drawer's contact.
    MedicationDrawer,
    /// The front door's contact.
    FrontDoor,
    /// A motion sensor.
    Motion,
    /// A room thermometer.
    RoomTemperature,
    /// A library's footfall counter.
    Footfall,
    /// A roadside traffic counter.
    Traffic,
}

impl Use {
    /// Every use.
    pub const ALL: [Use; 7] = [
        Use::Kettle,
        Use::MedicationDrawer,
        Use::FrontDoor,
        Use::Motion,
        Use::RoomTemperature,
        Use::Footfall,
        Use::Traffic,
    ];

    /// The code used on the command line and in the store.
    pub fn code(self) -> &'static str {
        match self {
            Use::Kettle => "kettle",
            Use::MedicationDrawer => "medication_drawer",
            Use::FrontDoor => "front_door",
            Use::Motion => "motion",
            Use::RoomTemperature => "room_temperature",
            Use::Footfall => "footfall",
            Use::Traffic => "traffic",
        }
    }

    /// In a resident's home: needs the resident and their consent.
    pub fn is_home(self) -> bool {
        !matches!(self, Use::Footfall | Use::Traffic)
    }

    /// The models that can serve this use.
    pub fn models(self) -> &'static [Model] {
        match self {
            Use::Kettle => &[Model::MilesightWs52x],
            Use::MedicationDrawer | Use::FrontDoor => &[Model::MilesightWs301],
            Use::Motion => &[Model::MilesightWs202],
            Use::RoomTemperature => &[Model::MilesightEm300Th],
            Use::Footfall => &[Model::MilesightVs133],
            Use::Traffic => &[Model::ParametricPcr2],
        }
    }
}

impl fmt::Display for Use {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Use {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Use::ALL
            .into_iter()
            .find(|u| u.code() == s.trim())
            .ok_or_else(|| RegistryError::UnknownUse(s.chars().take(40).collect()))
    }
}

/// A device to register, as given (also the API's body: `dev_eui`,
/// `model`, `use`, `resident`, `consent_ref`, `place`, `lat`, `lon`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    /// 16 hex digits.
    pub dev_eui: String,
    /// A model id.
    pub model: String,
    /// A use code.
    #[serde(rename = "use")]
    pub use_kind: String,
    /// Home devices: the resident's person id.
    pub resident: Option<String>,
    /// Home devices: the consent's reference.
    pub consent_ref: Option<String>,
    /// Counters: the site's name.
    pub place: Option<String>,
    /// Counters: latitude.
    pub lat: Option<f64>,
    /// Counters: longitude.
    pub lon: Option<f64>,
}

/// Why a device cannot be registered or removed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The devEUI is not 16 hex digits.
    #[error("--dev-eui: {0}")]
    DevEui(String),
    /// Not a model Wherry reads.
    #[error("--model: {0}")]
    Model(#[from] wherry_lorawan::UnknownModel),
    /// Not a use Wherry knows.
    #[error(
        "--use: unknown use {0:?}: one of kettle, medication_drawer, front_door, motion, room_temperature, footfall, traffic"
    )]
    UnknownUse(String),
    /// The model does not serve the use.
    #[error("--model: a {model} cannot be used as {use_kind}: use {expected}")]
    WrongModel {
        /// The model given.
        model: &'static str,
        /// The use given.
        use_kind: &'static str,
        /// The model that serves it.
        expected: &'static str,
    },
    /// A home device without its resident or consent.
    #[error(
        "a {0} is in a resident's home: give --resident PERSON_ID and --consent-ref REF (the resident's recorded consent)"
    )]
    NeedsConsent(&'static str),
    /// A counter given a resident.
    #[error("a {0} counts a public place: it takes --place, --lat and --lon, not a resident")]
    NotAHome(&'static str),
    /// A counter without its site.
    #[error("a {0} needs --place NAME --lat LAT --lon LON: its counts are published by place")]
    NeedsPlace(&'static str),
    /// A home device given a site or coordinates.
    #[error(
        "a home device's location is not published: leave out --place, --lat and --lon (the resident's record says where they live)"
    )]
    HomeHasNoPlace,
    /// Coordinates off the globe.
    #[error("--lat must be between -90 and 90 and --lon between -180 and 180")]
    BadCoordinates,
    /// No such resident.
    #[error("--resident: no resident {0} in the hub")]
    NoResident(String),
    /// A free-text value too long or empty.
    #[error("{0} must be 1 to 200 characters")]
    BadText(&'static str),
    /// Already registered.
    #[error("device {0} is registered already: remove it first to register it again")]
    Exists(String),
    /// Not registered.
    #[error("device {0} is not registered")]
    NotRegistered(String),
    /// Consent withdrawn already, or the device is not a home device.
    #[error(
        "device {0} is not registered in a resident's home, or its consent is withdrawn already"
    )]
    NoConsentToWithdraw(String),
    /// The caller may not change the registry, or the audit log failed.
    #[error(transparent)]
    Access(#[from] wherry_access::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] wherry_store::Error),
}

fn text(value: &Option<String>, flag: &'static str) -> Result<Option<String>, RegistryError> {
    match value.as_deref().map(str::trim) {
        None => Ok(None),
        Some(v) if v.is_empty() || v.chars().count() > 200 => Err(RegistryError::BadText(flag)),
        Some(v) => Ok(Some(v.to_string())),
    }
}

/// Checks `d` and registers it for `caller` (a TEC team member or an
/// administrator), audited (`sensor_device_added`, naming the resident).
pub async fn add(
    access: &Access,
    caller: &Caller,
    d: &NewDevice,
    request: &str,
) -> Result<Device, RegistryError> {
    // The role first: whether a resident exists is not told to others.
    operator(caller)?;
    let store = access.store();
    let now_ms = wherry_core::clock::unix_ms();
    let device = check(store, d, &caller.user, now_ms).await?;
    if store.device(&device.dev_eui).await?.is_some() {
        return Err(RegistryError::Exists(device.dev_eui));
    }
    access
        .sensor_registry_change(
            caller,
            "sensor_device_added",
            device.person_id.as_deref(),
            request,
        )
        .await?;
    if !store.add_device(&device).await? {
        return Err(RegistryError::Exists(device.dev_eui));
    }
    Ok(device)
}

/// What `add` would store, or why not.
pub async fn check(
    store: &Store,
    d: &NewDevice,
    operator: &str,
    now_ms: i64,
) -> Result<Device, RegistryError> {
    let eui: DevEui = d
        .dev_eui
        .parse()
        .map_err(|e: wherry_lorawan::EventError| RegistryError::DevEui(e.to_string()))?;
    let model: Model = d.model.parse()?;
    let use_kind: Use = d.use_kind.parse()?;
    if !use_kind.models().contains(&model) {
        return Err(RegistryError::WrongModel {
            model: model.id(),
            use_kind: use_kind.code(),
            expected: use_kind.models()[0].id(),
        });
    }
    let resident = text(&d.resident, "--resident")?;
    let consent = text(&d.consent_ref, "--consent-ref")?;
    let place = text(&d.place, "--place")?;
    if use_kind.is_home() {
        let (Some(resident), Some(_)) = (&resident, &consent) else {
            return Err(RegistryError::NeedsConsent(use_kind.code()));
        };
        if place.is_some() || d.lat.is_some() || d.lon.is_some() {
            return Err(RegistryError::HomeHasNoPlace);
        }
        if !store.person_exists(resident).await? {
            return Err(RegistryError::NoResident(resident.clone()));
        }
    } else {
        if resident.is_some() || consent.is_some() {
            return Err(RegistryError::NotAHome(use_kind.code()));
        }
        let (Some(_), Some(lat), Some(lon)) = (&place, d.lat, d.lon) else {
            return Err(RegistryError::NeedsPlace(use_kind.code()));
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            return Err(RegistryError::BadCoordinates);
        }
    }
    Ok(Device {
        dev_eui: eui.to_string(),
        model: model.id().to_string(),
        use_kind: use_kind.code().to_string(),
        person_id: resident,
        consent_ref: consent,
        consent_withdrawn_ms: None,
        place,
        lat: d.lat,
        lon: d.lon,
        added_ms: now_ms,
        added_by: operator.to_string(),
    })
}

/// Removes a device from the registry for `caller`, audited
/// (`sensor_device_removed`); returns the resident it was in the home of.
pub async fn remove(
    access: &Access,
    caller: &Caller,
    dev_eui: &str,
    request: &str,
) -> Result<Option<String>, RegistryError> {
    operator(caller)?;
    let device = registered(access.store(), dev_eui).await?;
    access
        .sensor_registry_change(
            caller,
            "sensor_device_removed",
            device.person_id.as_deref(),
            request,
        )
        .await?;
    if access.store().remove_device(&device.dev_eui).await? {
        Ok(device.person_id)
    } else {
        Err(RegistryError::NotRegistered(device.dev_eui))
    }
}

/// Records for `caller` that a home device's resident withdrew consent:
/// nothing it sends is processed from now on; audited
/// (`sensor_consent_withdrawn`). Returns the resident.
pub async fn withdraw_consent(
    access: &Access,
    caller: &Caller,
    dev_eui: &str,
    request: &str,
) -> Result<String, RegistryError> {
    operator(caller)?;
    let device = registered(access.store(), dev_eui).await?;
    let (Some(person), None) = (&device.person_id, device.consent_withdrawn_ms) else {
        return Err(RegistryError::NoConsentToWithdraw(device.dev_eui));
    };
    access
        .sensor_registry_change(caller, "sensor_consent_withdrawn", Some(person), request)
        .await?;
    let now = wherry_core::clock::unix_ms();
    if !access
        .store()
        .withdraw_consent(&device.dev_eui, now)
        .await?
    {
        return Err(RegistryError::NoConsentToWithdraw(device.dev_eui));
    }
    Ok(person.clone())
}

async fn registered(store: &Store, dev_eui: &str) -> Result<Device, RegistryError> {
    let eui: DevEui = dev_eui
        .parse()
        .map_err(|e: wherry_lorawan::EventError| RegistryError::DevEui(e.to_string()))?;
    store
        .device(&eui.to_string())
        .await?
        .ok_or_else(|| RegistryError::NotRegistered(eui.to_string()))
}

/// Refuses anyone but the TEC team and administrators, before anything
/// else (so no one else learns whether a resident or device exists).
fn operator(caller: &Caller) -> Result<(), RegistryError> {
    caller
        .require(
            &wherry_access::sensors::OPERATORS,
            "changing the device registry",
        )
        .map_err(|d| RegistryError::Access(d.into()))
}
