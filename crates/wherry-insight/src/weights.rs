//! The fire-risk model's points per factor: defaults documented with
//! their sources in `docs/insight.md`, each changeable in a TOML file:
//!
//! ```toml
//! # Points per factor (0 leaves a factor out of the model).
//! [weights]
//! smoker = 10
//! private_rented = 3
//! ```
//!
//! A factor the file does not name keeps its default. A name that is not
//! a factor, or points that are not a whole number from 0 to 100, is an
//! error naming the line.

use std::collections::BTreeMap;

use crate::fire::Factor;

/// The most points one factor may carry.
pub const MAX_POINTS: i64 = 100;

/// A weights file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightsError {
    /// Not TOML.
    #[error("{file}: not TOML: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message (with its line and column).
        message: String,
    },
    /// A table or key outside `[weights]`.
    #[error(
        "{file}: `{key}` is not a setting: the file holds one table, [weights], of points per factor"
    )]
    NotASetting {
        /// The file.
        file: String,
        /// The key.
        key: String,
    },
    /// A name that is not a factor.
    #[error(
        "{file} line {line}: `{name}` is not a factor; the factors are {}",
        factor_list()
    )]
    UnknownFactor {
        /// The file.
        file: String,
        /// Its line (1-based), 0 if not found.
        line: usize,
        /// The name given.
        name: String,
    },
    /// Points out of range, or not a whole number.
    #[error(
        "{file} line {line}: {factor} = {given}: points must be a whole number from 0 to {MAX_POINTS}"
    )]
    BadPoints {
        /// The file.
        file: String,
        /// Its line (1-based), 0 if not found.
        line: usize,
        /// The factor.
        factor: Factor,
        /// What was given, as written.
        given: String,
    },
}

fn factor_list() -> String {
    Factor::ALL.map(|f| f.code()).join(", ")
}

/// Points per factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    points: BTreeMap<Factor, u32>,
}

impl Default for Weights {
    /// The documented defaults (`docs/insight.md`, "Default weights").
    fn default() -> Self {
        let points = Factor::ALL
            .into_iter()
            .map(|f| (f, default_points(f)))
            .collect();
        Weights { points }
    }
}

/// A factor's default points (`docs/insight.md` gives each one's source).
pub fn default_points(f: Factor) -> u32 {
    match f {
        Factor::Aged80Plus => 8,
        Factor::Aged65To79 => 4,
        Factor::LivesAlone => 4,
        Factor::Smoker => 8,
        Factor::LimitedMobility => 6,
        Factor::OxygenTherapy => 8,
        Factor::CarePackage => 4,
        Factor::HoardingConcern => 8,
        Factor::AlcoholConcern => 8,
        Factor::MentalHealthConcern => 4,
        Factor::PreviousFire => 8,
        Factor::PrivateRented => 3,
        Factor::NoRecentVisit => 2,
    }
}

impl Weights {
    /// A factor's points.
    pub fn points(&self, f: Factor) -> u32 {
        self.points.get(&f).copied().unwrap_or(0)
    }

    /// These weights with `f` at `points`.
    pub fn with(mut self, f: Factor, points: u32) -> Self {
        self.points.insert(f, points);
        self
    }

    /// Reads a weights file's text (`file` names it in errors): the
    /// defaults, with the factors it names changed.
    pub fn from_toml(file: &str, text: &str) -> Result<Weights, WeightsError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| WeightsError::Syntax {
                    file: file.to_string(),
                    message: e.to_string().trim().replace('\n', " "),
                })?;
        let mut weights = Weights::default();
        for (key, value) in &table {
            let toml::Value::Table(entries) = value else {
                return Err(WeightsError::NotASetting {
                    file: file.to_string(),
                    key: key.clone(),
                });
            };
            if key != "weights" {
                return Err(WeightsError::NotASetting {
                    file: file.to_string(),
                    key: key.clone(),
                });
            }
            for (name, value) in entries {
                let line = line_of(text, name);
                let Some(factor) = Factor::from_code(name) else {
                    return Err(WeightsError::UnknownFactor {
                        file: file.to_string(),
                        line,
                        name: name.clone(),
                    });
                };
                let points = match value {
                    toml::Value::Integer(n) if (0..=MAX_POINTS).contains(n) => *n as u32,
                    other => {
                        return Err(WeightsError::BadPoints {
                            file: file.to_string(),
                            line,
                            factor,
                            given: other.to_string(),
                        });
                    }
                };
                weights.points.insert(factor, points);
            }
        }
        Ok(weights)
    }

    /// The weights as a file [`Weights::from_toml`] reads back, every
    /// factor named, with its label as a comment.
    pub fn to_toml(&self) -> String {
        let mut out =
            String::from("# Points per factor (0 leaves a factor out of the model).\n[weights]\n");
        for f in Factor::ALL {
            out.push_str(&format!(
                "{} = {}  # {}\n",
                f.code(),
                self.points(f),
                f.label()
            ));
        }
        out
    }
}

/// The line (1-based) where `key` is set in `text`, 0 if it cannot be
/// found (a quoted or dotted key).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}
