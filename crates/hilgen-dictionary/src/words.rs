//! Token predicates shared by the matcher, its context features and coordinations.

/// Whether a token starts with a letter or digit (a word, not punctuation).
pub(crate) fn is_word(t: &str) -> bool {
    t.chars().next().is_some_and(char::is_alphanumeric)
}
