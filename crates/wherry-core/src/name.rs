//! Personal names: the original kept, and a normalised form for matching.
//!
//! Normalising folds case, strips diacritics (`Zoë` → `zoe`), removes
//! apostrophes and full stops (`O'Neill` → `oneill`), splits hyphenated parts
//! into tokens (`O'Neill-Smith` → `oneill smith`), drops honorifics (`Mrs.`)
//! and collapses white space.

use serde::{Deserialize, Serialize};

/// Titles dropped from names when normalising (compared after folding).
pub const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "master",
    "dr",
    "prof",
    "professor",
    "rev",
    "revd",
    "sir",
    "dame",
    "lord",
    "lady",
    "fr",
    "sr",
    "cllr",
];

/// A name as given, with its normalised form.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Name {
    original: String,
    normalised: String,
}

impl Name {
    /// Keeps `original` and computes its normalised form.
    ///
    /// ```
    /// use wherry_core::Name;
    /// let n = Name::new("Mrs. O'Neill-Smith");
    /// assert_eq!(n.original(), "Mrs. O'Neill-Smith");
    /// assert_eq!(n.normalised(), "oneill smith");
    /// assert_eq!(Name::new("  Zoë ").normalised(), "zoe");
    /// ```
    pub fn new(original: impl Into<String>) -> Self {
        let original = original.into();
        let normalised = normalise(&original);
        Self {
            original,
            normalised,
        }
    }

    /// The name exactly as it was given.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// The normalised form (see the module docs).
    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// The tokens of the normalised form.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.normalised.split(' ').filter(|t| !t.is_empty())
    }
}

/// Deliberately does not print the name.
impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Name(***)")
    }
}

/// The normalised form of a name (see the module docs).
pub fn normalise(name: &str) -> String {
    // Most names are one word of ASCII letters: lowercased, that is the
    // whole answer (a lone title stays as it was, as below).
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()) {
        return name.to_ascii_lowercase();
    }
    let ascii = deunicode::deunicode(name);
    let mut folded = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        match c {
            'A'..='Z' => folded.push(c.to_ascii_lowercase()),
            'a'..='z' | '0'..='9' => folded.push(c),
            // Joined: O'Neill, D'Souza, St.John, acute accents transliterated as quotes.
            '\'' | '`' | '.' | '"' => {}
            // Separators: hyphens keep their parts as tokens; anything else splits.
            _ => folded.push(' '),
        }
    }
    let tokens: Vec<&str> = folded.split_whitespace().collect();
    let kept: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|t| !HONORIFICS.contains(t))
        .collect();
    // A name that is nothing but a title (a family called "Lord") stays as it was.
    if kept.is_empty() { tokens } else { kept }.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_the_examples() {
        let cases = [
            ("Mrs. O'Neill-Smith", "oneill smith"),
            ("Zoë", "zoe"),
            ("  JOHN   paul ", "john paul"),
            ("Dr Siân Llŷr", "sian llyr"),
            ("Łukasz Wiśniewski", "lukasz wisniewski"),
            ("McDonald", "mcdonald"),
            ("St. John", "st john"),
            ("Lord", "lord"),
            ("Mr", "mr"),
            ("", ""),
            ("Müller-Lüdenscheidt", "muller ludenscheidt"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise(input), want, "{input}");
        }
    }

    #[test]
    fn keeps_the_original() {
        let n = Name::new("Mrs. O'Neill-Smith");
        assert_eq!(n.tokens().collect::<Vec<_>>(), ["oneill", "smith"]);
        assert_eq!(format!("{n:?}"), "Name(***)");
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(s in "\\PC{0,40}") {
            let once = normalise(&s);
            prop_assert_eq!(normalise(&once), once.clone());
        }

        #[test]
        fn normal_form_is_plain(s in "\\PC{0,40}") {
            let n = normalise(&s);
            prop_assert!(n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' '));
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
        }

        #[test]
        fn case_and_spacing_do_not_matter(s in "[A-Za-z' -]{0,30}") {
            let noisy = format!("  {}  ", s.to_uppercase().replace(' ', "   "));
            prop_assert_eq!(normalise(&noisy), normalise(&s.to_lowercase()));
        }
    }
}
