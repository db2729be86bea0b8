//! What every value a partner sends must be, whatever the path (an
//! extract's row, a pushed record, a contact event): no control characters
//! (NUL, CR, LF, tab, …), no bidirectional embedding, override or isolate
//! characters (which can make text read differently from what it holds),
//! and no longer than its field's maximum. JSON is read strictly: an
//! object with the same key twice is refused, not resolved silently.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The code of the first refused character in `v`, if any:
/// `control_character` or `bidi_control`.
pub fn refused_char(v: &str) -> Option<&'static str> {
    v.chars().find_map(|c| {
        if c.is_control() {
            Some("control_character")
        } else if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}') {
            Some("bidi_control")
        } else {
            None
        }
    })
}

/// What a refused character means, in words.
pub fn refused_char_words(code: &str) -> &'static str {
    match code {
        "bidi_control" => {
            "holds a bidirectional control character (such as a right-to-left override)"
        }
        _ => "holds a control character (such as NUL, a tab or a line break)",
    }
}

/// The default maximum length, in characters, of a canonical field (by
/// name), of a record id (`record_id`), or of an attribute (any other
/// name). A manifest's `[max_length]` table overrides it.
pub fn default_max_length(name: &str) -> usize {
    match name {
        "record_id" => 128,
        "given_name" | "middle_names" | "family_name" => 100,
        "address" => 300,
        "postcode" | "sex" | "nhs_number" | "uprn" => 32,
        "dob" => 40,
        "phone" => 40,
        "email" => 254,
        _ => 500,
    }
}

/// Parses JSON as `serde_json` would, refusing an object that has the
/// same key twice.
pub fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str::<Strict>(text).map(|Strict(v)| v)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("the key {key:?} appears twice")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn controls_and_bidi_overrides_are_named() {
        assert_eq!(refused_char("Margaret Rose"), None);
        assert_eq!(refused_char("Zoë Ó Súilleabháin-Łukasz"), None);
        assert_eq!(refused_char("a\u{0}b"), Some("control_character"));
        assert_eq!(refused_char("line\r\nbreak"), Some("control_character"));
        assert_eq!(refused_char("tab\there"), Some("control_character"));
        assert_eq!(refused_char("abc\u{202E}fed"), Some("bidi_control"));
        assert_eq!(refused_char("\u{2067}x"), Some("bidi_control"));
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(strict_json(r#"{"a": 1, "b": {"c": [1, {"d": 2}]}}"#).is_ok());
        for text in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"x": {"a": 1, "a": 1}}"#,
            r#"[{"k": null, "k": null}]"#,
        ] {
            let e = strict_json(text).unwrap_err().to_string();
            assert!(e.contains("appears twice"), "{text}: {e}");
        }
    }

    proptest! {
        /// Whatever serde_json reads without duplicate keys, the strict
        /// reader reads to the same value.
        #[test]
        fn the_strict_reader_agrees_with_serde_json(
            keys in proptest::collection::btree_set("[a-z]{1,4}", 0..6),
            n in any::<i64>(),
            s in "\\PC{0,12}",
        ) {
            let mut obj = serde_json::Map::new();
            for (i, k) in keys.iter().enumerate() {
                let v = match i % 3 { 0 => Value::from(n), 1 => Value::from(s.clone()), _ => serde_json::json!([n, s, null, true]) };
                obj.insert(k.clone(), v);
            }
            let text = Value::Object(obj).to_string();
            prop_assert_eq!(strict_json(&text).unwrap(), serde_json::from_str::<Value>(&text).unwrap());
        }
    }
}
