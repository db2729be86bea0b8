//! The fire-risk model: points explained, unknown evidence never counted
//! as absent, the home taking its most at-risk resident, a stable ranking,
//! and weights files read or refused with the line at fault.

use std::collections::BTreeMap;

use proptest::prelude::*;
use wherry_insight::fire::{Evidence, Factor, Home, Resident, age_evidence, rank, score_home};
use wherry_insight::weights::{Weights, WeightsError, default_points};

fn resident(id: &str, age: Option<i32>, yes: &[Factor], no: &[Factor]) -> Resident {
    let mut factors: BTreeMap<Factor, Evidence> = age_evidence(age).into_iter().collect();
    for f in yes {
        factors.insert(*f, Evidence::Yes);
    }
    for f in no {
        factors.insert(*f, Evidence::No);
    }
    Resident {
        person_id: id.into(),
        factors,
    }
}

/// Every person factor but the ages known absent, except those in `yes`
/// (present) and `unknown` (left out).
fn known(id: &str, age: i32, yes: &[Factor], unknown: &[Factor]) -> Resident {
    let no: Vec<Factor> = Factor::ALL
        .into_iter()
        .filter(|f| f.scope() == wherry_insight::fire::Scope::Person)
        .filter(|f| !matches!(f, Factor::Aged80Plus | Factor::Aged65To79))
        .filter(|f| !yes.contains(f) && !unknown.contains(f))
        .collect();
    resident(id, Some(age), yes, &no)
}

fn home(uprn: &str, residents: Vec<Resident>, rented: Evidence, visited: Evidence) -> Home {
    Home {
        uprn: uprn.into(),
        residents,
        factors: [
            (Factor::PrivateRented, rented),
            (Factor::NoRecentVisit, visited),
        ]
        .into(),
    }
}

#[test]
fn a_homes_points_are_explained_factor_by_factor() {
    let w = Weights::default();
    let h = home(
        "100010001",
        vec![known("P1", 84, &[Factor::Smoker, Factor::LivesAlone], &[])],
        Evidence::Yes,
        Evidence::No,
    );
    let s = score_home(&w, &h);
    let expected = [
        Factor::Aged80Plus,
        Factor::Smoker,
        Factor::LivesAlone,
        Factor::PrivateRented,
    ];
    assert_eq!(
        s.score,
        expected.iter().map(|f| default_points(*f)).sum::<u32>()
    );
    let mut given: Vec<Factor> = s.reasons.iter().map(|r| r.factor).collect();
    given.sort();
    let mut want = expected.to_vec();
    want.sort();
    assert_eq!(given, want);
    // Most points first; a person factor names its resident, the home's none.
    assert!(s.reasons.windows(2).all(|p| p[0].points >= p[1].points));
    for r in &s.reasons {
        let whose = if r.factor == Factor::PrivateRented {
            None
        } else {
            Some("P1")
        };
        assert_eq!(r.person_id.as_deref(), whose, "{r:?}");
    }
    assert_eq!(
        (s.completeness, s.ceiling, s.unknown.len()),
        (1.0, s.score, 0)
    );
}

#[test]
fn a_withheld_factor_is_unknown_not_absent() {
    let w = Weights::default();
    // The same resident, their smoking withheld from the purpose.
    let seen = home(
        "1",
        vec![known("P1", 70, &[Factor::Smoker], &[])],
        Evidence::No,
        Evidence::No,
    );
    let withheld = home(
        "1",
        vec![known("P1", 70, &[], &[Factor::Smoker])],
        Evidence::No,
        Evidence::No,
    );
    let (a, b) = (score_home(&w, &seen), score_home(&w, &withheld));
    assert_eq!(a.score, b.score + default_points(Factor::Smoker));
    assert_eq!(b.unknown, vec![Factor::Smoker]);
    assert!(
        b.completeness < 1.0 && b.completeness > 0.8,
        "{}",
        b.completeness
    );
    assert_eq!(b.ceiling, a.score, "the ceiling counts the unknown factor");
    // Nothing known at all: no points, everything unknown, completeness 0.
    let blank = Home {
        uprn: "2".into(),
        residents: vec![Resident {
            person_id: "P2".into(),
            factors: BTreeMap::new(),
        }],
        factors: BTreeMap::new(),
    };
    let s = score_home(&w, &blank);
    assert_eq!((s.score, s.completeness), (0, 0.0));
    assert_eq!(s.unknown.len(), Factor::ALL.len());
    // Both age bands unknown: the ceiling counts the higher band only.
    let all: u32 = Factor::ALL.iter().map(|f| default_points(*f)).sum();
    assert_eq!(s.ceiling, all - default_points(Factor::Aged65To79));
}

#[test]
fn a_home_takes_its_most_at_risk_resident() {
    let w = Weights::default();
    let h = home(
        "3",
        vec![
            known("P1", 40, &[Factor::Smoker], &[]),
            known(
                "P2",
                88,
                &[Factor::LimitedMobility, Factor::OxygenTherapy],
                &[],
            ),
        ],
        Evidence::No,
        Evidence::Yes,
    );
    let s = score_home(&w, &h);
    let p2 = [
        Factor::Aged80Plus,
        Factor::LimitedMobility,
        Factor::OxygenTherapy,
    ]
    .iter()
    .map(|f| default_points(*f))
    .sum::<u32>();
    assert_eq!(s.score, p2 + default_points(Factor::NoRecentVisit));
    assert!(
        s.reasons
            .iter()
            .all(|r| r.person_id.as_deref() != Some("P1")),
        "{s:?}"
    );
}

#[test]
fn the_ranking_is_by_score_then_ceiling_then_uprn_and_sized_to_capacity() {
    let w = Weights::default();
    let homes = vec![
        home(
            "30",
            vec![known("A", 50, &[], &[])],
            Evidence::No,
            Evidence::No,
        ),
        home(
            "20",
            vec![known("B", 85, &[Factor::Smoker], &[])],
            Evidence::No,
            Evidence::No,
        ),
        home(
            "10",
            vec![known("C", 50, &[], &[])],
            Evidence::No,
            Evidence::No,
        ),
        home(
            "40",
            vec![known("D", 50, &[], &[Factor::Smoker])],
            Evidence::No,
            Evidence::No,
        ),
    ];
    let order: Vec<String> = rank(&w, &homes, 10).into_iter().map(|s| s.uprn).collect();
    assert_eq!(order, ["20", "40", "10", "30"]);
    assert_eq!(rank(&w, &homes, 2).len(), 2);
    // A factor weighed 0 leaves the model: neither points nor unknown.
    let w0 = Weights::default().with(Factor::Smoker, 0);
    let s = score_home(&w0, &homes[3]);
    assert!(s.unknown.is_empty() && s.completeness == 1.0, "{s:?}");
}

#[test]
fn partners_evidence_combines_present_over_absent_over_unknown() {
    use Evidence::*;
    for (a, b, both) in [
        (Yes, No, Yes),
        (No, Yes, Yes),
        (Unknown, Yes, Yes),
        (No, Unknown, No),
        (Unknown, No, No),
        (No, No, No),
        (Unknown, Unknown, Unknown),
    ] {
        assert_eq!(a.or(b), both, "{a:?} or {b:?}");
    }
    assert_eq!(age_evidence(Some(80))[0], (Factor::Aged80Plus, Yes));
    assert_eq!(age_evidence(Some(79))[1], (Factor::Aged65To79, Yes));
    assert_eq!(
        age_evidence(Some(64)),
        [(Factor::Aged80Plus, No), (Factor::Aged65To79, No)]
    );
}

#[test]
fn a_weights_file_changes_what_it_names_and_refuses_the_rest_by_line() {
    let w = Weights::from_toml(
        "w.toml",
        "# ours\n[weights]\nsmoker = 10\nprivate_rented = 0\n",
    )
    .unwrap();
    assert_eq!(
        (w.points(Factor::Smoker), w.points(Factor::PrivateRented)),
        (10, 0)
    );
    assert_eq!(
        w.points(Factor::LivesAlone),
        default_points(Factor::LivesAlone)
    );
    let cases: Vec<(&str, &str)> = vec![
        (
            "[weights]\nsmoker = 10\nsmoking = 3\n",
            "w.toml line 3: `smoking` is not a factor; the factors are aged_80_plus,",
        ),
        (
            "[weights]\nsmoker = -1\n",
            "w.toml line 2: smoker = -1: points must be a whole number from 0 to 100",
        ),
        (
            "[weights]\n\nsmoker = 2.5\n",
            "w.toml line 3: smoker = 2.5:",
        ),
        ("[weights]\nsmoker = 101\n", "smoker = 101: points must be"),
        ("[weights]\nsmoker = \"high\"\n", "smoker = \"high\""),
        (
            "[factors]\nsmoker = 1\n",
            "w.toml: `factors` is not a setting",
        ),
        ("smoker = 1\n", "w.toml: `smoker` is not a setting"),
        ("[weights\nsmoker = 1\n", "w.toml: not TOML:"),
    ];
    for (text, expected) in cases {
        let e = Weights::from_toml("w.toml", text).unwrap_err().to_string();
        assert!(
            e.starts_with(expected) || e.contains(expected),
            "{text:?}: {e}"
        );
    }
    assert!(matches!(
        Weights::from_toml("w.toml", "[weights]\nsmoking = 3\n"),
        Err(WeightsError::UnknownFactor { line: 2, .. })
    ));
}

proptest! {
    #[test]
    fn any_text_is_read_or_refused_without_panicking(text in "\\PC{0,200}") {
        let _ = Weights::from_toml("w.toml", &text);
    }

    #[test]
    fn weights_written_are_read_back(points in proptest::collection::vec(0u32..=100, 13)) {
        let mut w = Weights::default();
        for (f, p) in Factor::ALL.into_iter().zip(points) {
            w = w.with(f, p);
        }
        prop_assert_eq!(Weights::from_toml("w.toml", &w.to_toml()).unwrap(), w);
    }

    #[test]
    fn a_name_that_is_no_factor_is_refused_at_its_line(
        name in "[a-z][a-z_]{0,20}",
        blank in 0usize..5,
    ) {
        prop_assume!(Factor::from_code(&name).is_none());
        let text = format!("[weights]\n{}{name} = 1\n", "\n".repeat(blank));
        let e = Weights::from_toml("w.toml", &text).unwrap_err();
        prop_assert_eq!(e, WeightsError::UnknownFactor { file: "w.toml".into(), line: blank + 2, name });
    }

    #[test]
    fn a_score_is_its_reasons_and_never_above_its_ceiling(
        evidence in proptest::collection::vec(0u8..3, 13 * 3),
        residents in 1usize..4,
    ) {
        let pick = |k: u8| match k { 0 => Evidence::Yes, 1 => Evidence::No, _ => Evidence::Unknown };
        let mut h = Home { uprn: "1".into(), ..Default::default() };
        for r in 0..residents {
            let factors = Factor::ALL.into_iter().enumerate().map(|(i, f)| (f, pick(evidence[r * 13 + i]))).collect();
            h.residents.push(Resident { person_id: format!("P{r}"), factors });
        }
        h.factors = Factor::ALL.into_iter().enumerate().map(|(i, f)| (f, pick(evidence[i]))).collect();
        let s = score_home(&Weights::default(), &h);
        prop_assert_eq!(s.score, s.reasons.iter().map(|r| r.points).sum::<u32>());
        prop_assert!(s.score <= s.ceiling);
        prop_assert!((0.0..=1.0).contains(&s.completeness));
    }
}
