//! String similarity for the name and text comparisons, made cheap enough to
//! run on millions of pairs.
//!
//! [`jaro_winkler`] gives exactly what `strsim::jaro_winkler` gives (the
//! same matches, transpositions and arithmetic, so the same `f64`), but
//! works on bytes with bit masks for the matched positions when both strings
//! are ASCII and at most 64 bytes long, and allocates nothing; other strings
//! go to `strsim`. [`Letters`] is a value's letter counts, worked out once
//! per distinct value, from which [`Letters::jaro_winkler_at_most`] bounds
//! the similarity of two values from above without comparing them: most
//! random pairs of names cannot reach 0.80, and are known not to at the cost
//! of one pass over 32 counts.

/// Counts of a value's bytes in 32 buckets (a byte's low five bits; letters
/// fall one to a bucket, other bytes share), and its length in bytes.
/// Merging counts only raises the shared total, so the bound stays a bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Letters {
    counts: [u8; 32],
    /// The length in bytes; 0 with `bounded` false for values the bound
    /// does not cover (not ASCII, or over 255 bytes, where a count could
    /// overflow).
    len: u8,
    bounded: bool,
}

impl Letters {
    /// The counts of `s`.
    pub fn of(s: &str) -> Self {
        if !s.is_ascii() || s.len() > usize::from(u8::MAX) {
            return Self::default();
        }
        let mut counts = [0u8; 32];
        for &b in s.as_bytes() {
            counts[usize::from(b & 31)] += 1;
        }
        Self {
            counts,
            len: s.len() as u8,
            bounded: true,
        }
    }

    /// An upper bound on the Jaro–Winkler similarity of the two values
    /// these counts are of, whose first `prefix` bytes (at most four)
    /// agree. Jaro's matches are at most the bytes the two have in common
    /// and its transposition term at most one; Winkler's boost applies only
    /// above 0.7 and grows with the bound. Values the counts do not cover:
    /// 1 (no bound).
    pub fn jaro_winkler_at_most(&self, other: &Self, prefix: usize) -> f64 {
        if !(self.bounded && other.bounded) {
            return 1.0;
        }
        if self.len == 0 || other.len == 0 {
            return f64::from(u8::from(self.len == other.len));
        }
        let mut shared = 0u32;
        for i in 0..32 {
            shared += u32::from(self.counts[i].min(other.counts[i]));
        }
        if shared == 0 {
            return 0.0;
        }
        let m = f64::from(shared);
        let jaro = (m / f64::from(self.len) + m / f64::from(other.len) + 1.0) / 3.0;
        if jaro > 0.7 {
            jaro + 0.1 * prefix.min(4) as f64 * (1.0 - jaro)
        } else {
            jaro
        }
    }
}

/// How many of the first four bytes of `a` and `b` agree.
pub fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes()
        .zip(b.bytes())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count()
}

/// The Jaro–Winkler similarity of `a` and `b` (with their letter counts)
/// when it can reach `floor`, and 0 when their letter counts say it cannot
/// (so that any test against a threshold at or above `floor` is exact,
/// and most pairs are never compared).
pub fn jaro_winkler_from(a: &str, la: &Letters, b: &str, lb: &Letters, floor: f64) -> f64 {
    if la.jaro_winkler_at_most(lb, common_prefix(a, b)) < floor {
        0.0
    } else {
        jaro_winkler(a, b)
    }
}

/// Jaro–Winkler similarity, the same value as `strsim::jaro_winkler`.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !(a.is_ascii() && b.is_ascii()) || x.len() > 64 || y.len() > 64 {
        return strsim::jaro_winkler(a, b);
    }
    let sim = jaro_ascii(x, y);
    if sim > 0.7 {
        let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

/// Jaro similarity of two ASCII strings of at most 64 bytes: each byte of
/// `a`, in order, matches the first unmatched equal byte of `b` within the
/// window; transpositions are matched bytes out of order, halved.
fn jaro_ascii(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let (mut a_matched, mut b_matched) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = b.len().min(i + window + 1);
        for (j, &d) in b.iter().enumerate().take(hi).skip(lo) {
            if c == d && b_matched & (1 << j) == 0 {
                a_matched |= 1 << i;
                b_matched |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut rest = b_matched;
    let mut from_a = a_matched;
    while from_a != 0 {
        let i = from_a.trailing_zeros() as usize;
        let j = rest.trailing_zeros() as usize;
        if a[i] != b[j] {
            transpositions += 1;
        }
        from_a &= from_a - 1;
        rest &= rest - 1;
    }
    let transpositions = transpositions / 2;
    let m = matches as f64;
    ((m / a.len() as f64) + (m / b.len() as f64) + ((matches - transpositions) as f64 / m)) / 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        for (a, b) in [
            ("martha", "marhta"),
            ("dwayne", "duane"),
            ("dixon", "dicksonx"),
            ("", ""),
            ("", "a"),
            ("thrower", "thrower"),
            ("cheeseburger", "cheese fries"),
            ("zoë", "zoe"),
        ] {
            assert_eq!(jaro_winkler(a, b), strsim::jaro_winkler(a, b), "{a} {b}");
        }
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-4);
    }

    proptest! {
        // Short strings from a small alphabet, so that matches, windows and
        // transpositions all happen; and any strings, with non-ASCII ones.
        #[test]
        fn same_as_strsim(a in "[abcde ]{0,12}", b in "[abcde ]{0,12}") {
            prop_assert_eq!(jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
        }

        #[test]
        fn same_as_strsim_on_any_text(a in "\\PC{0,70}", b in "\\PC{0,70}") {
            prop_assert_eq!(jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
        }

        #[test]
        fn the_bound_is_a_bound(a in "[a-z0-9 ]{0,20}", b in "[a-z0-9 ]{0,20}") {
            let bound = Letters::of(&a).jaro_winkler_at_most(&Letters::of(&b), common_prefix(&a, &b));
            prop_assert!(jaro_winkler(&a, &b) <= bound + 1e-12, "{} > {}", jaro_winkler(&a, &b), bound);
            let exact = jaro_winkler(&a, &b);
            let from = jaro_winkler_from(&a, &Letters::of(&a), &b, &Letters::of(&b), 0.8);
            prop_assert!(from == exact || (from == 0.0 && exact < 0.8), "{} {}", from, exact);
        }
    }
}
