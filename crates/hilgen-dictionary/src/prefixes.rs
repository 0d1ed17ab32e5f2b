//! Chemical prefixes joined to a name by a hyphen: a locant ("6-thioguanine", "5-HT"), a
//! configuration letter ("D-penicillamine", "L-dopa", "N-acetylcysteine") or a Greek letter or
//! isomer word ("alpha-tocopherol", "cis-platinum"). The vocabularies list the bare names; the
//! corpora mark the prefixed whole, so a match grows left over `prefix -` (see
//! [`crate::DictionaryConfig::prefixes`]). Set on the dev splits of BC5CDR and NCBI-Disease with
//! the seed-1 shots (docs/results/README.md, "Precision and prefixes").

use crate::matches::{grow_left, Match};

/// Words before a hyphen that are part of the name after it.
pub const PREFIX_WORDS: &[&str] =
    &["alpha", "beta", "gamma", "delta", "epsilon", "omega", "cis", "trans", "dl", "d", "l", "n", "o", "s", "r"];

/// Whether a token is a prefix: a number of up to four digits (a prime allowed: "5'"), or one
/// of [`PREFIX_WORDS`] in any case.
pub fn is_prefix(token: &str) -> bool {
    let digits = token.trim_end_matches('\'');
    (!digits.is_empty() && digits.len() <= 4 && digits.chars().all(|c| c.is_ascii_digit()))
        || PREFIX_WORDS.contains(&token.to_lowercase().as_str())
}

/// Grows each match left over `prefix -` (repeatedly: "N - acetyl - 5 - HT" where the rest is
/// a match), never into the match before it.
pub fn grow(tokens: &[String], matches: &mut [Match], key: impl Fn(&str) -> String) {
    grow_left(tokens, matches, key, |m, free_from| {
        let mut start = m.span.start;
        while start >= free_from + 2 && tokens[start - 1] == "-" && is_prefix(&tokens[start - 2]) {
            start -= 2;
        }
        start
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use hilgen_corpus::Span;

    #[test]
    fn prefixes_are_locants_letters_and_greek() {
        for p in ["6", "5'", "D", "l", "N", "alpha", "cis"] {
            assert!(is_prefix(p), "{p}");
        }
        for p in ["12345", "x", "anti", "", "'"] {
            assert!(!is_prefix(p), "{p}");
        }
    }

    #[test]
    fn matches_grow_over_prefixes_but_not_into_another_match() {
        let tokens: Vec<String> =
            "D - penicillamine and 6 - thioguanine and dopamine - 1 and x - ray".split(' ').map(String::from).collect();
        let at = |s, e| Match { span: Span::new(s, e, "Chemical"), key: String::new(), target: None };
        let mut ms = vec![at(2, 3), at(6, 7), at(8, 9), at(14, 15)];
        grow(&tokens, &mut ms, str::to_lowercase);
        let got: Vec<(usize, usize)> = ms.iter().map(|m| (m.span.start, m.span.end)).collect();
        assert_eq!(got, [(0, 3), (4, 7), (8, 9), (14, 15)]);
        assert_eq!(ms[0].key, "d - penicillamine");
        // A prefix inside the match before stays there.
        let tokens: Vec<String> = "L - dopa".split(' ').map(String::from).collect();
        let mut ms = vec![Match { span: Span::new(0, 1, "Chemical"), key: String::new(), target: None }, at(2, 3)];
        grow(&tokens, &mut ms, str::to_lowercase);
        assert_eq!(ms[1].span.start, 2);
    }
}
