//! The decoders against the vendors' published example vectors, and
//! property tests: round trips through the encoders, arbitrary bytes, and
//! errors that name the byte.

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use wherry_lorawan::bytes::from_hex;
use wherry_lorawan::reading::*;
use wherry_lorawan::{DecodeErrorKind, Model, Reading, encode};

/// Whether every field `expected` lists is in `got` with the same value
/// (numbers compared as numbers: the vendor's 20 is our 20.0).
fn holds(expected: &Value, got: &Value) -> Result<(), String> {
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in e {
                let gv = g.get(k).ok_or_else(|| format!("{k} missing"))?;
                holds(v, gv).map_err(|why| format!("{k}: {why}"))?;
            }
            Ok(())
        }
        (Value::Number(e), Value::Number(g)) => {
            let (e, g) = (e.as_f64().unwrap(), g.as_f64().unwrap());
            if (e - g).abs() < 1e-9 {
                Ok(())
            } else {
                Err(format!("expected {e}, got {g}"))
            }
        }
        (e, g) if e == g => Ok(()),
        (e, g) => Err(format!("expected {e}, got {g}")),
    }
}

#[test]
fn every_published_vector_decodes_to_its_listed_values() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/lorawan/vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} could not be read: {e}", path.display()));
    let file: Value = serde_json::from_str(&text).unwrap();
    let vectors = file["vectors"].as_array().expect("a list of vectors");
    assert!(vectors.len() >= 10, "the vendors' vectors are all there");
    let mut models_seen = std::collections::BTreeSet::new();
    for v in vectors {
        let model: Model = v["device"].as_str().unwrap().parse().unwrap();
        let port = v["fport"].as_u64().unwrap() as u8;
        let bytes = from_hex(v["hex"].as_str().unwrap()).unwrap();
        let reading = model
            .decode(port, &bytes)
            .unwrap_or_else(|e| panic!("{model} {}: {e}", v["hex"]));
        let got = serde_json::to_value(&reading).unwrap();
        holds(&v["expect"], &got)
            .unwrap_or_else(|why| panic!("{model} {}: {why}; got {got}", v["hex"]));
        models_seen.insert(model);
    }
    assert_eq!(
        models_seen.len(),
        Model::ALL.len(),
        "a vector for every model"
    );
}

#[test]
fn errors_name_the_byte() {
    // A voltage channel cut after one of its two bytes.
    let e = Model::MilesightWs52x
        .decode(85, &from_hex("0374ed").unwrap())
        .unwrap_err();
    assert_eq!(e.offset, 2);
    assert!(matches!(
        e.kind,
        DecodeErrorKind::Truncated {
            needed: 2,
            left: 1,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "byte 2: voltage needs 2 bytes, the payload has 1 left"
    );
    // A channel the contact never sends, after a good one.
    let e = Model::MilesightWs301
        .decode(85, &from_hex("0300010999").unwrap())
        .unwrap_err();
    assert_eq!(e.offset, 3);
    assert_eq!(
        e.to_string(),
        "byte 3: unknown channel 0x09 0x99 for this model"
    );
    // A lone channel id.
    let e = Model::MilesightWs202
        .decode(85, &from_hex("03").unwrap())
        .unwrap_err();
    assert_eq!((e.offset, e.reason()), (1, "payload_too_short"));
    // The PCR2: header, length and port.
    let e = Model::ParametricPcr2
        .decode(14, &from_hex("be0105").unwrap())
        .unwrap_err();
    assert_eq!((e.offset, e.reason()), (0, "unknown_header"));
    let e = Model::ParametricPcr2
        .decode(14, &from_hex("be010400010002").unwrap())
        .unwrap_err();
    assert_eq!(e.reason(), "payload_too_short");
    assert!(
        e.to_string().contains("17 bytes long, this payload has 7"),
        "{e}"
    );
    let e = Model::ParametricPcr2
        .decode(
            190,
            &from_hex("be010400010002000300041c200ce40139").unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.reason(), "wrong_port");
    let e = Model::MilesightEm300Th.decode(85, &[]).unwrap_err();
    assert_eq!(e.reason(), "empty_payload");
}

#[test]
fn device_information_channels_read_as_the_vendor_prints_them() {
    let bytes =
        from_hex("ff0110 ff090140 ff0a0114 ff0b01 ff0f00 ff166136d20431910026 0175 5c").unwrap();
    let got = serde_json::to_value(Model::MilesightWs301.decode(85, &bytes).unwrap()).unwrap();
    assert_eq!(got["ipso_version"], "v1.0");
    assert_eq!(got["hardware_version"], "v1.4");
    assert_eq!(got["firmware_version"], "v1.20");
    assert_eq!(got["device_status"], "on");
    assert_eq!(got["lorawan_class"], "Class A");
    assert_eq!(got["sn"], "6136d20431910026");
    assert_eq!(got["battery"], 92);
}

fn version() -> impl Strategy<Value = Version> {
    (0u8..16, 0u8..16).prop_map(|(major, minor)| Version { major, minor })
}

fn info() -> impl Strategy<Value = DeviceInfo> {
    (
        proptest::option::of(version()),
        proptest::option::of(version()),
        proptest::option::of(
            (any::<u8>(), any::<u8>()).prop_map(|(major, minor)| Version { major, minor }),
        ),
        proptest::option::of(any::<bool>().prop_map(|b| if b { OnOff::On } else { OnOff::Off })),
        proptest::option::of(prop_oneof![
            Just(LorawanClass::A),
            Just(LorawanClass::B),
            Just(LorawanClass::C),
            Just(LorawanClass::CtoB)
        ]),
        proptest::option::of(any::<[u8; 8]>().prop_map(|b| wherry_lorawan::bytes::to_hex(&b))),
    )
        .prop_map(|(ipso, hw, fw, status, class, sn)| DeviceInfo {
            ipso_version: ipso,
            hardware_version: hw,
            firmware_version: fw,
            device_status: status,
            lorawan_class: class,
            sn,
            tsl_version: None,
        })
}

fn door() -> impl Strategy<Value = DoorState> {
    any::<bool>().prop_map(|b| if b { DoorState::Open } else { DoorState::Close })
}

fn reading() -> impl Strategy<Value = Reading> {
    let socket = (
        info(),
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of(0u8..=100),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u16>()),
        proptest::option::of(door()),
    )
        .prop_map(|(info, v, p, pf, e, c, b)| {
            Reading::SmartSocket(SmartSocket {
                info,
                voltage: v.map(|v| f64::from(v) / 10.0),
                active_power: p,
                power: pf,
                energy: e,
                current: c,
                button: b,
            })
        });
    let contact = (
        info(),
        proptest::option::of(0u8..=100),
        proptest::option::of(door()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(info, battery, door, install)| {
            Reading::Contact(Contact {
                info,
                battery,
                door,
                install: install.map(|i| if i { Installed::Yes } else { Installed::No }),
            })
        });
    let motion = (
        info(),
        proptest::option::of(0u8..=100),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(info, battery, pir, light)| {
            Reading::Motion(Motion {
                info,
                battery,
                pir: pir.map(|p| {
                    if p {
                        PirState::Trigger
                    } else {
                        PirState::Normal
                    }
                }),
                light: light.map(|l| {
                    if l {
                        LightState::Light
                    } else {
                        LightState::Dark
                    }
                }),
            })
        });
    let climate = (
        info(),
        proptest::option::of(0u8..=100),
        proptest::option::of(any::<i16>()),
        proptest::option::of(any::<u8>()),
        proptest::collection::vec((any::<u32>(), any::<i16>(), any::<u8>()), 0..3),
    )
        .prop_map(|(info, battery, t, h, history)| {
            Reading::Climate(Climate {
                info,
                battery,
                temperature: t.map(|t| f64::from(t) / 10.0),
                humidity: h.map(|h| f64::from(h) / 2.0),
                history: history
                    .into_iter()
                    .map(|(timestamp, t, h)| ClimateHistory {
                        timestamp,
                        temperature: f64::from(t) / 10.0,
                        humidity: f64::from(h) / 2.0,
                    })
                    .collect(),
            })
        });
    let line = (
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::option::of((any::<u16>(), any::<u16>())),
    )
        .prop_map(|(total_in, total_out, period)| CountingLine {
            total_in,
            total_out,
            period_in: period.map(|p| p.0),
            period_out: period.map(|p| p.1),
        });
    let counter = (
        info(),
        proptest::collection::btree_map(1u8..=4, line, 0..=4),
    )
        .prop_map(|(info, lines)| {
            let lines: BTreeMap<String, CountingLine> = lines
                .into_iter()
                .filter(|(_, l)| *l != CountingLine::default())
                .map(|(n, l)| (format!("line_{n}"), l))
                .collect();
            Reading::PeopleCounter(PeopleCounter { info, lines })
        });
    let radar = (
        any::<bool>(),
        any::<[u16; 4]>(),
        any::<u16>(),
        any::<u16>(),
        -3276i16..=3276,
    )
        .prop_map(|(v4, counts, batt, pv, temp)| {
            Reading::RadarCounter(RadarCounter {
                version: if v4 { 4 } else { 3 },
                LTR: counts[0],
                RTL: counts[1],
                LTR_SUM: counts[2],
                RTL_SUM: counts[3],
                SBX_BATT: if v4 { batt } else { batt % 256 },
                SBX_PV: pv,
                DIFF: counts[2].abs_diff(counts[3]),
                TEMP: temp,
            })
        });
    prop_oneof![socket, contact, motion, climate, counter, radar]
}

fn model_of(r: &Reading) -> Model {
    match r {
        Reading::SmartSocket(_) => Model::MilesightWs52x,
        Reading::Contact(_) => Model::MilesightWs301,
        Reading::Motion(_) => Model::MilesightWs202,
        Reading::Climate(_) => Model::MilesightEm300Th,
        Reading::PeopleCounter(_) => Model::MilesightVs133,
        Reading::RadarCounter(_) => Model::ParametricPcr2,
    }
}

fn is_empty(r: &Reading) -> bool {
    encode(r).1.is_empty()
}

proptest! {
    #[test]
    fn every_decoder_reads_back_what_its_encoder_writes(r in reading()) {
        let (port, bytes) = encode(&r);
        let model = model_of(&r);
        if is_empty(&r) {
            prop_assert_eq!(model.decode(port, &bytes).unwrap_err().kind, DecodeErrorKind::Empty);
        } else {
            prop_assert_eq!(model.decode(port, &bytes).unwrap(), r);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(model in 0usize..6, port in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let model = Model::ALL[model];
        match model.decode(port, &bytes) {
            Ok(r) => {
                // What decoded is valid JSON.
                serde_json::to_string(&r).unwrap();
            }
            Err(e) => prop_assert!(e.offset <= bytes.len()),
        }
    }

    #[test]
    fn a_cut_payload_is_an_error_at_or_before_the_cut(r in reading(), cut in any::<prop::sample::Index>()) {
        let (port, bytes) = encode(&r);
        prop_assume!(bytes.len() > 1);
        let at = cut.index(bytes.len() - 1) + 1;
        let model = model_of(&r);
        // A cut at a channel boundary leaves a shorter, valid payload; anywhere
        // else it is an error no later than the cut.
        if let Err(e) = model.decode(port, &bytes[..at]) {
            prop_assert!(e.offset <= at, "{} at {}", e, at);
        }
    }
}
