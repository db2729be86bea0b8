//! A ChirpStack v4 uplink event, as its integrations publish it (JSON).

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UplinkEvent<'a> {
    pub(super) deduplication_id: String,
    pub(super) time: String,
    pub(super) device_info: DeviceInfo<'a>,
    pub(super) dev_addr: &'a str,
    pub(super) adr: bool,
    pub(super) dr: u8,
    pub(super) f_cnt: u32,
    pub(super) f_port: u8,
    pub(super) confirmed: bool,
    pub(super) data: String,
    pub(super) object: serde_json::Value,
    pub(super) rx_info: [RxInfo<'a>; 1],
    pub(super) tx_info: TxInfo,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DeviceInfo<'a> {
    pub(super) tenant_id: &'a str,
    pub(super) tenant_name: &'static str,
    pub(super) application_id: &'a str,
    pub(super) application_name: &'static str,
    pub(super) device_profile_id: &'a str,
    pub(super) device_profile_name: &'static str,
    pub(super) device_name: String,
    pub(super) dev_eui: &'a str,
    pub(super) device_class_enabled: &'static str,
    pub(super) tags: Tags,
}

#[derive(Serialize)]
pub(super) struct Tags {
    pub(super) kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RxInfo<'a> {
    pub(super) gateway_id: &'a str,
    pub(super) uplink_id: u32,
    pub(super) gw_time: String,
    pub(super) ns_time: String,
    pub(super) rssi: i32,
    pub(super) snr: f64,
    pub(super) channel: u8,
    pub(super) location: Location,
    pub(super) context: String,
    pub(super) crc_status: &'static str,
}

#[derive(Serialize)]
pub(super) struct Location {
    pub(super) latitude: f64,
    pub(super) longitude: f64,
}

#[derive(Serialize)]
pub(super) struct TxInfo {
    pub(super) frequency: u32,
    pub(super) modulation: Modulation,
}

#[derive(Serialize)]
pub(super) struct Modulation {
    pub(super) lora: Lora,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Lora {
    pub(super) bandwidth: u32,
    pub(super) spreading_factor: u8,
    pub(super) code_rate: &'static str,
}
