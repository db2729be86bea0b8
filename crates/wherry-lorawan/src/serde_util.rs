//! Reading the network servers' JSON.

use serde::{Deserialize, Deserializer};

use crate::event::EventError;

/// JSON into `T`, or why not (the message names the line and column, never
/// a value).
pub(crate) fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, EventError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a field has the wrong type",
            serde_json::error::Category::Eof => "it ends too early",
            _ => "it is not JSON",
        };
        EventError::InvalidJson(format!("{what} (line {}, column {})", e.line(), e.column()))
    })
}

/// An integer written as a number or, as protobuf's JSON writes 64-bit
/// integers, a string.
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match N::deserialize(d)? {
        N::Int(n) => Ok(n),
        N::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        N::Float(_) => Err(serde::de::Error::custom("not a whole number")),
        N::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("not a whole number")),
    }
}
