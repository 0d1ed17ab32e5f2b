//! The one string normalization used for indexing and lookup.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Normalizes a term for matching: Unicode compatibility decomposition (NFKD) with combining
/// marks removed (so `Sjögren` matches `Sjogren`), lower case, every character that is neither
/// a letter nor a digit turned into a space (so `type-2 diabetes,` matches `type 2 diabetes`),
/// and runs of spaces collapsed and trimmed. Returns an empty string for a term with no letter
/// or digit.
///
/// ```
/// use hilgen_kb::normalize;
/// assert_eq!(normalize("  Sjögren's  Syndrome, Type-2 "), "sjogren s syndrome type 2");
/// assert_eq!(normalize("ＣＯＶＩＤ‐19"), "covid 19");
/// ```
pub fn normalize(term: &str) -> String {
    if term.is_ascii() {
        return normalize_ascii(term);
    }
    let mut out = String::with_capacity(term.len());
    let mut pending_space = false;
    for c in term.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// The same normalization for ASCII input (no decomposition needed), without Unicode tables.
fn normalize_ascii(term: &str) -> String {
    let mut out = String::with_capacity(term.len());
    let mut pending_space = false;
    for &b in term.as_bytes() {
        if b.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(b.to_ascii_lowercase() as char);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(normalize("Diabetes Mellitus, Type 2"), "diabetes mellitus type 2");
        assert_eq!(normalize("(131)I-MAA"), "131 i maa");
        assert_eq!(normalize("---"), "");
    }

    proptest! {
        #[test]
        fn ascii_fast_path_agrees(s in "[ -~]{0,40}") {
            let mut general = String::new();
            let mut pending = false;
            for c in s.chars() {
                if c.is_alphanumeric() {
                    if pending && !general.is_empty() { general.push(' '); }
                    pending = false;
                    general.extend(c.to_lowercase());
                } else {
                    pending = true;
                }
            }
            prop_assert_eq!(normalize(&s), general);
        }

        #[test]
        fn idempotent(s in "\\PC{0,30}") {
            let once = normalize(&s);
            prop_assert_eq!(normalize(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }
    }
}
