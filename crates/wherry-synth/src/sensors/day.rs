//! One device's uplinks for one day: its routine in local time, with the
//! home's planted anomaly where there is one.

use super::*;

/// One device's uplinks for one day.
pub(super) fn day_uplinks(
    d: &mut Device,
    dev: usize,
    plan: Option<&HomePlan>,
    day: Date,
    rng: &mut Rng,
    out: &mut Vec<Up>,
) {
    let mut push = |t: i64, rng: &mut Rng, reading| {
        out.push(Up {
            t,
            millis: rng.below(1000) as u16,
            dev,
            reading,
        })
    };
    if rng.chance(0.02) {
        d.battery_mv = d.battery_mv.saturating_sub(1).max(2600);
    }
    let hour = |h: i64| local_to_utc(day, h * 60);
    match d.kind {
        DeviceKind::KettlePlug => {
            let p = plan.expect("home device");
            let wake = p.wake_min + rng.range(-20, 21);
            let mut uses = vec![wake + rng.range(5, 25)];
            for centre in [10 * 60 + 30, 13 * 60, 15 * 60 + 30, 18 * 60, 20 * 60 + 30] {
                if rng.chance(0.75) {
                    uses.push(centre + rng.range(-40, 41));
                }
            }
            // Uses and the plug's six-hourly reports in time order, so each
            // report carries the energy used so far.
            let mut frames: Vec<(i64, Option<i64>)> = uses
                .into_iter()
                .map(|m| {
                    let on = local_to_utc(day, m) + rng.range(0, 60);
                    (on, Some(rng.range(150, 260)))
                })
                .filter(|(on, _)| {
                    !in_anomaly(plan, &[Anomaly::KettleUnused, Anomaly::NoMovement], *on)
                })
                .collect();
            frames.extend([0, 6, 12, 18].map(|h| (hour(h) + 17, None)));
            frames.sort_unstable();
            for (on, secs) in frames {
                let Some(secs) = secs else {
                    push(
                        on,
                        rng,
                        Reading::Plug {
                            on: false,
                            power_w: 0,
                            energy_wh: d.energy_wh,
                        },
                    );
                    continue;
                };
                let power_w = rng.range(2700, 3000) as u16;
                push(
                    on,
                    rng,
                    Reading::Plug {
                        on: true,
                        power_w,
                        energy_wh: d.energy_wh,
                    },
                );
                d.energy_wh += (secs * 2850 / 3600) as u32;
                push(
                    on + secs,
                    rng,
                    Reading::Plug {
                        on: false,
                        power_w: 0,
                        energy_wh: d.energy_wh,
                    },
                );
            }
        }
        DeviceKind::MedicationDrawer | DeviceKind::FrontDoor => {
            let p = plan.expect("home device");
            let drawer = d.kind == DeviceKind::MedicationDrawer;
            let mut opens: Vec<i64> = Vec::new();
            if drawer {
                opens.push(p.wake_min + 30 + rng.range(-15, 30));
                opens.push(20 * 60 + rng.range(-30, 31));
            } else {
                for _ in 0..rng.range(1, 4) {
                    opens.push(rng.range(9 * 60, 19 * 60));
                }
            }
            let blocked: &[Anomaly] = if drawer {
                &[Anomaly::MedicationMissed, Anomaly::NoMovement]
            } else {
                &[Anomaly::NoMovement]
            };
            let mut times: Vec<i64> = opens
                .into_iter()
                .map(|m| local_to_utc(day, m) + rng.range(0, 60))
                .filter(|&t| !in_anomaly(plan, blocked, t))
                .collect();
            if !drawer {
                if let Some((Anomaly::NightDoor, start, _)) = p.anomaly {
                    if (hour(0)..hour(24)).contains(&start) {
                        times.push(start + 30);
                    }
                }
            }
            for t in times {
                push(
                    t,
                    rng,
                    Reading::Contact {
                        open: true,
                        battery_mv: d.battery_mv,
                    },
                );
                push(
                    t + rng.range(20, 150),
                    rng,
                    Reading::Contact {
                        open: false,
                        battery_mv: d.battery_mv,
                    },
                );
            }
            for h in [3, 15] {
                push(
                    hour(h) + 41,
                    rng,
                    Reading::Contact {
                        open: false,
                        battery_mv: d.battery_mv,
                    },
                );
            }
        }
        DeviceKind::PirMotion => {
            let p = plan.expect("home device");
            for h in 0..24 {
                let t = hour(h + 1) - 60 + rng.range(0, 30);
                let awake = (p.wake_min..p.bed_min).contains(&(h * 60 + 30));
                let count = if in_anomaly(plan, &[Anomaly::NoMovement], t)
                    || in_anomaly(plan, &[Anomaly::NoMovement], t - 3000)
                {
                    0
                } else {
                    rng.poisson(if awake { 14.0 } else { 0.4 })
                };
                push(
                    t,
                    rng,
                    Reading::Motion {
                        count: count as u16,
                        battery_mv: d.battery_mv,
                    },
                );
            }
        }
        DeviceKind::RoomTemperature => {
            let p = plan.expect("home device");
            for h in 0..24 {
                let t = hour(h) + 300 + rng.range(0, 60);
                let awake = (p.wake_min..p.bed_min).contains(&(h * 60));
                let mut c = if awake { 20.0 } else { 17.5 } + rng.normal() * 0.4;
                if in_anomaly(plan, &[Anomaly::ColdHome], t) {
                    c = 12.5 + rng.normal() * 0.6;
                }
                let humidity = (50.0 + rng.normal() * 5.0).clamp(30.0, 80.0) as u8;
                push(
                    t,
                    rng,
                    Reading::Climate {
                        centi_c: (c * 100.0) as i16,
                        humidity,
                        battery_mv: d.battery_mv,
                    },
                );
            }
        }
        DeviceKind::TrafficCounter => {
            let weekend = day.weekday() >= 5;
            for h in 0..24 {
                let peak = (-((h as f64 - 8.0).powi(2)) / 3.0).exp()
                    + (-((h as f64 - 17.0).powi(2)) / 4.0).exp();
                let base = 20.0
                    + 400.0 * peak * if weekend { 0.5 } else { 1.0 }
                    + if (7..20).contains(&h) { 120.0 } else { 0.0 };
                // Each direction carries about half; the totals since
                // power-up wrap at 65,536 as the device's do.
                let ltr = rng.poisson(base / 2.0) as u16;
                let rtl = rng.poisson(base / 2.0) as u16;
                d.counter = (d.counter + u32::from(ltr)) % 65_536;
                d.counter_b = (d.counter_b + u32::from(rtl)) % 65_536;
                let temp_c = (12.0 + 6.0 * peak + rng.normal()) as i16;
                push(
                    hour(h + 1) - 5,
                    rng,
                    Reading::Traffic {
                        ltr,
                        rtl,
                        ltr_sum: d.counter as u16,
                        rtl_sum: d.counter_b as u16,
                        temp_c,
                    },
                );
            }
        }
        DeviceKind::LibraryFootfall => {
            let open = day.weekday() < 6;
            for h in 0..24 {
                let visitors = if open && (9..17).contains(&h) {
                    rng.poisson(if h == 12 || h == 15 { 35.0 } else { 20.0 })
                } else {
                    0
                };
                let leaving = if open && (9..18).contains(&h) {
                    visitors.saturating_sub(rng.below(3) as u32)
                } else {
                    0
                };
                d.counter = d.counter.wrapping_add(visitors);
                d.counter_b = d.counter_b.wrapping_add(leaving);
                push(
                    hour(h + 1) - 8,
                    rng,
                    Reading::Footfall {
                        period_in: visitors as u16,
                        period_out: leaving as u16,
                        total_in: d.counter,
                        total_out: d.counter_b,
                    },
                );
            }
        }
    }
}
