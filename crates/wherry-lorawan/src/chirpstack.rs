//! ChirpStack v4 integration events (`integration.proto`), as its HTTP
//! integration posts them (`?event=up`) and its MQTT integration publishes
//! them (`application/{id}/device/{devEui}/event/up`): JSON with camelCase
//! names. ChirpStack prints every field, defaults included; protobuf's
//! `json_format` leaves defaults out and prints 64-bit integers as strings;
//! both are read.

use serde::Deserialize;

use crate::event::{
    DevEui, Event, EventError, Join, Network, Reception, Status, Uplink, base64_decode, parse_time,
};
use crate::serde_util::{number, parse_json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceInfo {
    dev_eui: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RxInfo {
    #[serde(default)]
    gateway_id: String,
    #[serde(default, deserialize_with = "number")]
    rssi: i64,
    #[serde(default)]
    snr: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UplinkEvent {
    device_info: Option<DeviceInfo>,
    time: Option<String>,
    #[serde(default, deserialize_with = "number")]
    f_cnt: i64,
    #[serde(default, deserialize_with = "number")]
    f_port: i64,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    rx_info: Vec<RxInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusEvent {
    device_info: Option<DeviceInfo>,
    time: Option<String>,
    #[serde(default, deserialize_with = "number")]
    margin: i64,
    #[serde(default)]
    external_power_source: bool,
    #[serde(default)]
    battery_level_unavailable: bool,
    #[serde(default)]
    battery_level: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinEvent {
    device_info: Option<DeviceInfo>,
    time: Option<String>,
}

fn dev_eui(info: Option<DeviceInfo>) -> Result<DevEui, EventError> {
    info.and_then(|i| i.dev_eui)
        .ok_or(EventError::MissingField("deviceInfo.devEui"))?
        .parse()
}

fn time(t: Option<String>) -> Result<Option<i64>, EventError> {
    t.filter(|t| !t.is_empty())
        .map(|t| parse_time(&t))
        .transpose()
}

/// Parses a ChirpStack event of type `kind` (`up`, `status`, `join`; the
/// HTTP integration's `event` query parameter, the MQTT topic's last part).
pub fn parse(kind: &str, body: &[u8]) -> Result<Event, EventError> {
    match kind {
        "up" => {
            let e: UplinkEvent = parse_json(body)?;
            let f_port = u8::try_from(e.f_port).map_err(|_| EventError::OutOfRange("fPort"))?;
            let f_cnt = u32::try_from(e.f_cnt).map_err(|_| EventError::OutOfRange("fCnt"))?;
            Ok(Event::Up(Uplink {
                network: Network::Chirpstack,
                dev_eui: dev_eui(e.device_info)?,
                f_cnt,
                f_port,
                data: base64_decode(e.data.as_deref().unwrap_or(""))?,
                time_ms: time(e.time)?,
                receptions: e
                    .rx_info
                    .into_iter()
                    .map(|r| Reception {
                        gateway_id: r.gateway_id,
                        rssi: r.rssi.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
                        snr: r.snr,
                    })
                    .collect(),
            }))
        }
        "status" => {
            let e: StatusEvent = parse_json(body)?;
            Ok(Event::Status(Status {
                dev_eui: dev_eui(e.device_info)?,
                time_ms: time(e.time)?,
                battery_level: (!e.battery_level_unavailable && !e.external_power_source)
                    .then_some(e.battery_level),
                external_power_source: e.external_power_source,
                margin: e.margin.clamp(-1000, 1000) as i32,
            }))
        }
        "join" => {
            let e: JoinEvent = parse_json(body)?;
            Ok(Event::Join(Join {
                dev_eui: dev_eui(e.device_info)?,
                time_ms: time(e.time)?,
            }))
        }
        other => Err(EventError::UnsupportedEvent(
            other.chars().take(40).collect(),
        )),
    }
}

/// The event type from an MQTT topic `application/{id}/device/{devEui}/event/{type}`.
pub fn topic_event(topic: &str) -> Option<&str> {
    let parts: Vec<&str> = topic.split('/').collect();
    match parts.as_slice() {
        ["application", _, "device", _, "event", kind] => Some(kind),
        _ => None,
    }
}
