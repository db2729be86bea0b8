//! The Things Stack v3 uplink messages, as its webhooks post them and its
//! MQTT server publishes them (`v3/{application}@{tenant}/devices/{device}/up`):
//! JSON with snake_case names, zero and empty fields left out (an absent
//! `f_cnt` is 0), upper-case EUIs, 64-bit integers as strings.

use serde::Deserialize;

use crate::event::{
    DevEui, Event, EventError, Network, Reception, Uplink, base64_decode, parse_time,
};
use crate::serde_util::{number, parse_json};

#[derive(Deserialize)]
struct EndDeviceIds {
    dev_eui: Option<String>,
}

#[derive(Deserialize)]
struct GatewayIds {
    #[serde(default)]
    gateway_id: String,
}

#[derive(Deserialize)]
struct RxMetadata {
    gateway_ids: Option<GatewayIds>,
    #[serde(default, deserialize_with = "number")]
    rssi: i64,
    #[serde(default)]
    snr: f64,
}

#[derive(Deserialize)]
struct UplinkMessage {
    #[serde(default, deserialize_with = "number")]
    f_port: i64,
    #[serde(default, deserialize_with = "number")]
    f_cnt: i64,
    frm_payload: Option<String>,
    #[serde(default)]
    rx_metadata: Vec<RxMetadata>,
    received_at: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    end_device_ids: Option<EndDeviceIds>,
    received_at: Option<String>,
    uplink_message: Option<UplinkMessage>,
}

/// Parses an uplink message.
pub fn parse(body: &[u8]) -> Result<Event, EventError> {
    let m: Message = parse_json(body)?;
    let up = m
        .uplink_message
        .ok_or_else(|| EventError::UnsupportedEvent("a message without uplink_message".into()))?;
    let dev_eui: DevEui = m
        .end_device_ids
        .and_then(|ids| ids.dev_eui)
        .ok_or(EventError::MissingField("end_device_ids.dev_eui"))?
        .parse()?;
    let time = up
        .received_at
        .or(m.received_at)
        .filter(|t| !t.is_empty())
        .map(|t| parse_time(&t))
        .transpose()?;
    Ok(Event::Up(Uplink {
        network: Network::TheThingsStack,
        dev_eui,
        f_cnt: u32::try_from(up.f_cnt).map_err(|_| EventError::OutOfRange("f_cnt"))?,
        f_port: u8::try_from(up.f_port).map_err(|_| EventError::OutOfRange("f_port"))?,
        data: base64_decode(up.frm_payload.as_deref().unwrap_or(""))?,
        time_ms: time,
        receptions: up
            .rx_metadata
            .into_iter()
            .map(|r| Reception {
                gateway_id: r.gateway_ids.map(|g| g.gateway_id).unwrap_or_default(),
                rssi: r.rssi.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
                snr: r.snr,
            })
            .collect(),
    }))
}

/// Whether an MQTT topic is an uplink topic `v3/{application}/devices/{device}/up`.
pub fn is_uplink_topic(topic: &str) -> bool {
    let parts: Vec<&str> = topic.split('/').collect();
    matches!(parts.as_slice(), ["v3", _, "devices", _, "up"])
}
