//! A reading as the synthetic county models it, and what the real device
//! sends for it (written by `wherry_lorawan`'s encoders).

use wherry_lorawan::reading as vendor;

/// A reading as the synthetic county models it; [`Reading::vendor`] is what
/// the device sends for it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reading {
    Plug {
        on: bool,
        power_w: u16,
        energy_wh: u32,
    },
    Contact {
        open: bool,
        battery_mv: u16,
    },
    Motion {
        count: u16,
        battery_mv: u16,
    },
    Climate {
        centi_c: i16,
        humidity: u8,
        battery_mv: u16,
    },
    /// The last hour's objects each way and the totals since power-up.
    Traffic {
        ltr: u16,
        rtl: u16,
        ltr_sum: u16,
        rtl_sum: u16,
        temp_c: i16,
    },
    /// The last hour's people in and out and the totals since reset.
    Footfall {
        period_in: u16,
        period_out: u16,
        total_in: u32,
        total_out: u32,
    },
}

/// A battery's percentage from its voltage (2.6 V empty, 3.6 V full).
fn battery_percent(mv: u16) -> u8 {
    ((i32::from(mv) - 2600) / 10).clamp(0, 100) as u8
}

impl Reading {
    /// The reading in the device's own terms.
    pub(super) fn vendor(self) -> wherry_lorawan::Reading {
        use wherry_lorawan::Reading as R;
        match self {
            Reading::Plug {
                on,
                power_w,
                energy_wh,
            } => R::SmartSocket(vendor::SmartSocket {
                voltage: Some(if on { 238.4 } else { 241.2 }),
                active_power: Some(u32::from(power_w)),
                energy: Some(energy_wh),
                current: Some((u32::from(power_w) * 1000 / 238).min(u32::from(u16::MAX)) as u16),
                button: Some(vendor::DoorState::Open),
                ..Default::default()
            }),
            Reading::Contact { open, battery_mv } => R::Contact(vendor::Contact {
                battery: Some(battery_percent(battery_mv)),
                door: Some(if open {
                    vendor::DoorState::Open
                } else {
                    vendor::DoorState::Close
                }),
                ..Default::default()
            }),
            Reading::Motion { count, battery_mv } => R::Motion(vendor::Motion {
                battery: Some(battery_percent(battery_mv)),
                pir: Some(if count > 0 {
                    vendor::PirState::Trigger
                } else {
                    vendor::PirState::Normal
                }),
                ..Default::default()
            }),
            Reading::Climate {
                centi_c,
                humidity,
                battery_mv,
            } => R::Climate(vendor::Climate {
                battery: Some(battery_percent(battery_mv)),
                temperature: Some(f64::from(centi_c / 10) / 10.0),
                humidity: Some(f64::from(humidity)),
                ..Default::default()
            }),
            Reading::Traffic {
                ltr,
                rtl,
                ltr_sum,
                rtl_sum,
                temp_c,
            } => R::RadarCounter(vendor::RadarCounter {
                version: 4,
                LTR: ltr,
                RTL: rtl,
                LTR_SUM: ltr_sum,
                RTL_SUM: rtl_sum,
                SBX_BATT: 7200,
                SBX_PV: 0,
                DIFF: ltr_sum.abs_diff(rtl_sum),
                TEMP: temp_c,
            }),
            Reading::Footfall {
                period_in,
                period_out,
                total_in,
                total_out,
            } => {
                let mut counter = vendor::PeopleCounter::default();
                *counter.line_mut(1) = vendor::CountingLine {
                    total_in: Some(total_in),
                    total_out: Some(total_out),
                    period_in: Some(period_in),
                    period_out: Some(period_out),
                };
                R::PeopleCounter(counter)
            }
        }
    }

    pub(super) fn payload(self) -> Vec<u8> {
        wherry_lorawan::encode(&self.vendor()).1
    }

    pub(super) fn object(self) -> serde_json::Value {
        serde_json::to_value(self.vendor()).expect("a reading serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensors::DeviceKind;

    #[test]
    fn payloads_are_the_real_devices_and_decode_to_the_reading() {
        let climate = Reading::Climate {
            centi_c: -150,
            humidity: 55,
            battery_mv: 3000,
        };
        // EM300-TH: battery 40%, temperature -1.5 °C (tenths, little-endian),
        // humidity 55% (halves).
        assert_eq!(
            climate.payload(),
            vec![0x01, 0x75, 40, 0x03, 0x67, 0xf1, 0xff, 0x04, 0x68, 110]
        );
        let plug = Reading::Plug {
            on: true,
            power_w: 2850,
            energy_wh: 1,
        };
        for (kind, reading) in [
            (DeviceKind::RoomTemperature, climate),
            (DeviceKind::KettlePlug, plug),
        ] {
            let decoded = kind
                .model()
                .decode(kind.f_port(), &reading.payload())
                .unwrap();
            assert_eq!(serde_json::to_value(decoded).unwrap(), reading.object());
        }
        assert_eq!(plug.object()["active_power"], 2850);
    }
}
