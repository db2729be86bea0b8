//! UK given-name aliases: formal names and the nicknames they go by.
//!
//! `William` is also `Bill`, `Will`, `Billy` and `Liam`; `Margaret` is also
//! `Peggy`, `Maggie`, `Meg`. Names are compared in their normalised form
//! ([`crate::name::normalise`]). A nickname may belong to more than one formal
//! name (`Chris`, `Pat`, `Alex`).

use std::collections::HashMap;
use std::sync::LazyLock;

/// Each formal given name (normalised) with the nicknames it goes by.
pub const GIVEN_NAME_ALIASES: &[(&str, &[&str])] = &[
    ("abigail", &["abby", "abi", "gail"]),
    ("albert", &["bert", "albie", "al"]),
    ("alexander", &["alex", "sandy", "xander", "alec"]),
    ("alexandra", &["alex", "sandra", "lexi", "sasha"]),
    ("alfred", &["alf", "alfie", "fred"]),
    ("amelia", &["millie", "amy", "mia"]),
    ("andrew", &["andy", "drew"]),
    ("anthony", &["tony", "ant"]),
    ("arthur", &["art", "artie"]),
    ("barbara", &["babs", "barb", "barbie"]),
    ("benjamin", &["ben", "benny", "benji"]),
    ("bernard", &["bernie", "barney"]),
    ("catherine", &["kate", "cathy", "cath", "katie", "kay"]),
    ("charles", &["charlie", "chas", "chuck"]),
    ("charlotte", &["lottie", "charlie", "lotte"]),
    ("christine", &["chris", "chrissie", "tina"]),
    ("christopher", &["chris", "kit", "topher"]),
    ("clifford", &["cliff"]),
    ("daniel", &["dan", "danny"]),
    ("david", &["dave", "davy"]),
    ("deborah", &["debbie", "deb", "debs"]),
    ("donald", &["don", "donny"]),
    ("dorothy", &["dot", "dottie", "dolly", "dora"]),
    ("douglas", &["doug", "dougie"]),
    ("edward", &["ted", "ed", "eddie", "ned", "teddy"]),
    ("eleanor", &["ellie", "nell", "nora", "elle"]),
    (
        "elizabeth",
        &["liz", "beth", "betty", "lizzie", "bess", "eliza", "libby"],
    ),
    ("emily", &["em", "emmy", "millie"]),
    ("frances", &["fran", "frankie", "fanny"]),
    ("francis", &["frank", "fran"]),
    ("frederick", &["fred", "freddie", "freddy"]),
    ("gerald", &["gerry", "jerry"]),
    ("gwendoline", &["gwen", "wendy"]),
    ("harold", &["harry", "hal"]),
    ("henry", &["harry", "hal", "hank"]),
    ("isabella", &["bella", "izzy", "isa"]),
    ("isabel", &["bella", "izzy", "isa"]),
    ("jacob", &["jake", "jack"]),
    ("jacqueline", &["jackie", "jacqui"]),
    ("james", &["jim", "jimmy", "jamie", "jem"]),
    ("jennifer", &["jenny", "jen", "jenni"]),
    ("john", &["jack", "johnny", "jon"]),
    ("jonathan", &["jon", "jonny", "nathan"]),
    ("joseph", &["joe", "joey"]),
    ("josephine", &["jo", "josie", "jose"]),
    ("joshua", &["josh"]),
    ("kathleen", &["kath", "kathy", "kay"]),
    ("katherine", &["kate", "kathy", "katie", "kath"]),
    ("kenneth", &["ken", "kenny"]),
    ("leonard", &["len", "lenny", "leo"]),
    ("lawrence", &["larry", "laurie"]),
    (
        "margaret",
        &[
            "peggy", "maggie", "meg", "marge", "margie", "madge", "greta", "rita",
        ],
    ),
    ("matthew", &["matt", "matty"]),
    ("michael", &["mike", "mick", "mickey", "micky"]),
    ("nicholas", &["nick", "nicky", "nico"]),
    ("oliver", &["ollie", "olly"]),
    ("olivia", &["liv", "livvy", "ollie"]),
    ("pamela", &["pam"]),
    ("patricia", &["pat", "trish", "tricia", "patsy"]),
    ("patrick", &["pat", "paddy"]),
    ("peter", &["pete"]),
    ("philip", &["phil", "pip"]),
    ("raymond", &["ray"]),
    ("rebecca", &["becky", "becca", "bex"]),
    ("richard", &["dick", "rick", "rich", "richie", "ricky"]),
    ("robert", &["bob", "rob", "bobby", "robbie", "bert"]),
    ("ronald", &["ron", "ronnie"]),
    ("samuel", &["sam", "sammy"]),
    ("samantha", &["sam", "sammy"]),
    ("sandra", &["sandy", "sandie"]),
    ("sophia", &["sophie"]),
    ("stephen", &["steve", "stevie"]),
    ("steven", &["steve", "stevie"]),
    ("susan", &["sue", "susie", "suzy"]),
    ("terence", &["terry", "tel"]),
    ("thomas", &["tom", "tommy"]),
    ("timothy", &["tim", "timmy"]),
    ("valerie", &["val"]),
    ("victoria", &["vicky", "vikki", "tori"]),
    ("walter", &["wally", "walt"]),
    ("william", &["bill", "will", "billy", "liam", "willie"]),
    ("winifred", &["winnie", "freda"]),
];

/// For each name (formal or nickname), the indices of the alias groups it is in.
static GROUPS: LazyLock<HashMap<&'static str, Vec<u16>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<u16>> = HashMap::new();
    for (i, (formal, nicks)) in GIVEN_NAME_ALIASES.iter().enumerate() {
        for name in std::iter::once(formal).chain(nicks.iter()) {
            let groups = map.entry(name).or_default();
            if !groups.contains(&(i as u16)) {
                groups.push(i as u16);
            }
        }
    }
    map
});

/// The nicknames of a formal given name (normalised), or an empty slice.
///
/// ```
/// use wherry_core::aliases::nicknames;
/// assert!(nicknames("william").contains(&"bill"));
/// assert!(nicknames("zebedee").is_empty());
/// ```
pub fn nicknames(formal: &str) -> &'static [&'static str] {
    GIVEN_NAME_ALIASES
        .iter()
        .find(|(f, _)| *f == formal)
        .map_or(&[], |(_, n)| n)
}

/// Whether two different normalised given names are known aliases of each
/// other (a formal name and its nickname, or two nicknames of one name).
///
/// ```
/// use wherry_core::aliases::are_aliases;
/// assert!(are_aliases("peggy", "margaret"));
/// assert!(are_aliases("bill", "liam"));
/// assert!(!are_aliases("bill", "bob"));
/// assert!(!are_aliases("bill", "bill"));
/// ```
pub fn are_aliases(a: &str, b: &str) -> bool {
    a != b && share_a_group(alias_groups(a), alias_groups(b))
}

/// The alias groups a normalised given name is in (empty when none), for
/// callers that compare one name with many: look each name's groups up
/// once, then test pairs with [`share_a_group`].
///
/// ```
/// use wherry_core::aliases::{alias_groups, share_a_group};
/// assert!(share_a_group(alias_groups("peggy"), alias_groups("margaret")));
/// assert!(alias_groups("zebedee").is_empty());
/// ```
pub fn alias_groups(name: &str) -> &'static [u16] {
    GROUPS.get(name).map_or(&[], Vec::as_slice)
}

/// Whether two names' alias groups (from [`alias_groups`]) meet.
pub fn share_a_group(a: &[u16], b: &[u16]) -> bool {
    a.iter().any(|g| b.contains(g))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_normalised_and_formal_names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (formal, nicks) in GIVEN_NAME_ALIASES {
            assert!(seen.insert(*formal), "{formal} twice");
            for n in std::iter::once(formal).chain(nicks.iter()) {
                assert_eq!(crate::name::normalise(n), *n);
            }
        }
    }

    #[test]
    fn the_issue_examples_are_aliases() {
        for (a, b) in [
            ("bill", "william"),
            ("peggy", "margaret"),
            ("jim", "james"),
            ("will", "billy"),
        ] {
            assert!(are_aliases(a, b), "{a} {b}");
            assert!(are_aliases(b, a), "{b} {a}");
        }
        assert!(!are_aliases("james", "william"));
        assert!(!are_aliases("nobody", "william"));
    }
}
