//! `wherry device decode`: what a field engineer uses to check a device.

use crate::util::{stderr, stdout, wherry};

#[test]
fn decode_prints_the_vendor_fields_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = wherry(
        dir.path(),
        &[
            "device",
            "decode",
            "--model",
            "parametric_pcr2",
            "--fport",
            "14",
            "be010400010002000300041c200ce40139",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["LTR"], 1);
    assert_eq!(v["SBX_BATT"], 7200);
    assert_eq!(v["TEMP"], 31);
    // Bytes may be given with spaces, and the port defaults to the model's.
    let o = wherry(
        dir.path(),
        &[
            "device",
            "decode",
            "--model",
            "milesight_ws52x",
            "0374ed08",
            "06 83 56 04 00 00",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        (v["voltage"].as_f64(), v["energy"].as_u64()),
        (Some(228.5), Some(1110))
    );
}

#[test]
fn a_bad_payload_says_which_byte_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--model", "milesight_ws52x", "0374ed"],
            "byte 2: voltage needs 2 bytes, the payload has 1 left",
        ),
        (
            &["--model", "milesight_ws301", "0300010999"],
            "byte 3: unknown channel 0x09 0x99",
        ),
        (
            &["--model", "milesight_ws301", "03000"],
            "odd number of digits",
        ),
        (
            &["--model", "milesight_ws301", "03zz01"],
            "character 3 is not a hex digit",
        ),
        (
            &["--model", "acme_kettle", "030001"],
            "unknown device model \"acme_kettle\": Wherry reads milesight_ws52x",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["device", "decode"];
        all.extend_from_slice(args);
        let o = wherry(dir.path(), &all);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = stderr(&o);
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn the_registry_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ok = |args: &[&str]| {
        let o = wherry(d, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    ok(&["init"]);
    let agreement = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/sources/tec_sensors.toml"
    );
    assert!(ok(&["source", "register", agreement]).contains("Registered tec_sensors"));
    ok(&["user", "add", "tina", "--role", "tec_team"]);
    ok(&["user", "add", "ann", "--role", "advisor"]);
    let counter = [
        "device",
        "add",
        "--dev-eui",
        "70B3D57ED0045391",
        "--model",
        "parametric_pcr2",
        "--use",
        "traffic",
        "--place",
        "Wymondham, London Road",
        "--lat",
        "52.57",
        "--lon",
        "1.11",
        "--operator",
        "tina",
        "--purpose",
        "direct_care",
    ];
    assert!(ok(&counter).contains("Registered 70b3d57ed0045391 (parametric_pcr2 as traffic)"));
    // Refused, each with what to do, and nothing stored.
    let refused: &[(&[&str], &str)] = &[
        (&counter, "registered already"),
        (
            &[
                "device",
                "add",
                "--dev-eui",
                "70b3d57ed0045392",
                "--model",
                "milesight_ws301",
                "--use",
                "front_door",
                "--operator",
                "tina",
                "--purpose",
                "direct_care",
            ],
            "give --resident PERSON_ID and --consent-ref REF",
        ),
        (
            &[
                "device",
                "add",
                "--dev-eui",
                "70b3d57ed0045392",
                "--model",
                "milesight_ws301",
                "--use",
                "front_door",
                "--resident",
                "P000000001",
                "--consent-ref",
                "TEC-1",
                "--operator",
                "ann",
                "--purpose",
                "contact_centre",
            ],
            "changing the device registry is for the tec_team or admin role",
        ),
        (
            &[
                "device",
                "remove",
                "70b3d57ed0045399",
                "--operator",
                "tina",
                "--purpose",
                "direct_care",
            ],
            "device 70b3d57ed0045399 is not registered",
        ),
        (
            &[
                "device",
                "list",
                "--operator",
                "ann",
                "--purpose",
                "contact_centre",
            ],
            "the device registry is for the tec_team or admin role",
        ),
        (
            &[
                "device",
                "withdraw-consent",
                "70b3d57ed00453",
                "--operator",
                "tina",
                "--purpose",
                "direct_care",
            ],
            "a devEUI is 16 hex digits, this one has 14",
        ),
    ];
    for (args, expected) in refused {
        let o = wherry(d, args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
    }
    let listed: serde_json::Value = serde_json::from_str(&ok(&[
        "device",
        "list",
        "--json",
        "--operator",
        "tina",
        "--purpose",
        "direct_care",
    ]))
    .unwrap();
    let devices = listed.as_array().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["dev_eui"], "70b3d57ed0045391");
    assert_eq!(devices[0]["use_kind"], "traffic");
    assert_eq!(devices[0]["uplinks"], 0);
    assert!(devices[0]["last_seen_ms"].is_null());
    assert!(
        ok(&[
            "device",
            "list",
            "--operator",
            "tina",
            "--purpose",
            "direct_care"
        ])
        .contains("70b3d57ed0045391\tparametric_pcr2\ttraffic\tnever\t0\t-")
    );
    ok(&[
        "device",
        "remove",
        "70b3d57ed0045391",
        "--operator",
        "tina",
        "--purpose",
        "direct_care",
    ]);
    // Each change and listing is in the audit log (refusals are not
    // disclosures): added, listed twice, removed.
    let audit = ok(&["audit", "verify"]);
    assert!(audit.contains("The audit log holds 4 entries"), "{audit}");
    let listed: serde_json::Value = serde_json::from_str(&ok(&[
        "device",
        "list",
        "--json",
        "--operator",
        "tina",
        "--purpose",
        "direct_care",
    ]))
    .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
}
