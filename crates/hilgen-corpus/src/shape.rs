//! Word shapes that say what a word is without knowing it.

/// Whether `word` is shaped like a symbol: at most six characters, a capital letter, and a
/// digit or more capitals than lower-case letters ("RB1", "Rb1", "G6PD", "DCC", "NOx", "iNOS",
/// "AZT"; not "CpGs", "wt", "Cisplatin"). Gene symbols and abbreviations have this shape; a
/// system that reads abbreviations from their definitions in the document is the one to judge
/// them.
///
/// ```
/// use hilgen_corpus::shape::is_symbol;
/// assert!(is_symbol("G6PD") && is_symbol("Rb1") && is_symbol("NOx"));
/// assert!(!is_symbol("CpGs") && !is_symbol("wt") && !is_symbol("Cisplatin") && !is_symbol("NSAIDsX1"));
/// ```
pub fn is_symbol(word: &str) -> bool {
    if word.chars().count() > 6 {
        return false;
    }
    let upper = word.chars().filter(|c| c.is_uppercase()).count();
    let lower = word.chars().filter(|c| c.is_lowercase()).count();
    let digits = word.chars().filter(|c| c.is_ascii_digit()).count();
    upper >= 1 && (digits >= 1 || upper > lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_short_capitalised_words() {
        for w in ["RB1", "G6PD", "DCC", "D", "II", "CaCl2", "AChR", "NSAIDs", "EDDs", "C7D"] {
            assert!(is_symbol(w), "{w}");
        }
        for w in ["CpGs", "wt", "sf", "von", "Cisplatin", "5", "-", "Glucose", "ABCDEFG"] {
            assert!(!is_symbol(w), "{w}");
        }
    }
}
