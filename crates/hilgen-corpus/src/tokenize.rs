//! The crate's own word tokenizer and sentence splitter, used to turn PubTator documents into
//! IOB sentences.
//!
//! Tokens are maximal runs of letters and digits, or single other non-space characters (so
//! `alpha-methyldopa` gives `alpha`, `-`, `methyldopa`, as in the BC5CDR and NCBI IOB files).
//! Extra break points (mention boundaries) can be forced. Sentences end after `.`, `?` or `!`
//! when the next token starts with an upper-case letter or a digit, unless the full stop ends a
//! known abbreviation or a single-letter initial, or a break would cut a protected range.
//!
//! ```
//! use hilgen_corpus::tokenize::{tokenize, split_sentences};
//! let text = "Naloxone reverses it. E.g. clonidine, 5 mg/kg.";
//! let toks = tokenize(text, &[]);
//! assert_eq!(toks.iter().map(|t| &text[t.start..t.end]).collect::<Vec<_>>()[..4], ["Naloxone", "reverses", "it", "."]);
//! assert_eq!(split_sentences(text, &toks, &[]).len(), 2);
//! ```

/// A token as a byte range of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// Tokenizes `text`; `breaks` are byte offsets where a token must start or end.
pub fn tokenize(text: &str, breaks: &[usize]) -> Vec<Token> {
    let mut forced: Vec<usize> = breaks.to_vec();
    forced.sort_unstable();
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let word = c.is_alphanumeric();
        if let Some(s) = start {
            if !word || forced.binary_search(&i).is_ok() {
                tokens.push(Token { start: s, end: i });
                start = None;
            }
        }
        if c.is_whitespace() {
            continue;
        }
        if word {
            start.get_or_insert(i);
        } else {
            tokens.push(Token { start: i, end: i + c.len_utf8() });
        }
    }
    if let Some(s) = start {
        tokens.push(Token { start: s, end: text.len() });
    }
    tokens
}

const ABBREVIATIONS: [&str; 22] = [
    "e.g", "i.e", "al", "vs", "Dr", "Fig", "Figs", "Ref", "approx", "ca", "cf", "Eq", "No", "Mr", "Mrs", "Ms", "Prof",
    "resp", "St", "Jr", "etc", "viz",
];

/// Splits tokens into sentences; returns ranges of token indices. `protected` byte ranges
/// (mentions) are never cut.
pub fn split_sentences(text: &str, tokens: &[Token], protected: &[(usize, usize)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut begin = 0;
    for i in 0..tokens.len() {
        let tok = &text[tokens[i].start..tokens[i].end];
        if !matches!(tok, "." | "?" | "!") || i + 1 >= tokens.len() {
            continue;
        }
        let next = &text[tokens[i + 1].start..tokens[i + 1].end];
        let next_ok = next.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
        let gap = tokens[i].end < tokens[i + 1].start;
        if !next_ok || !gap || (tok == "." && is_abbreviation(text, tokens, i)) {
            continue;
        }
        let cut = tokens[i].end;
        if protected.iter().any(|&(s, e)| s < cut && cut < e) {
            continue;
        }
        out.push(begin..i + 1);
        begin = i + 1;
    }
    if begin < tokens.len() {
        out.push(begin..tokens.len());
    }
    out
}

/// Whether the full stop at token `i` ends an abbreviation or an initial.
fn is_abbreviation(text: &str, tokens: &[Token], i: usize) -> bool {
    if i == 0 || tokens[i - 1].end != tokens[i].start {
        return false;
    }
    let prev = &text[tokens[i - 1].start..tokens[i - 1].end];
    if prev.chars().count() == 1 && prev.chars().all(char::is_uppercase) {
        return true;
    }
    // Rebuild "e.g" / "i.e" from the three tokens before the stop.
    let dotted = (i >= 3 && tokens[i - 3].end == tokens[i - 2].start && tokens[i - 2].end == tokens[i - 1].start)
        .then(|| &text[tokens[i - 3].start..tokens[i - 1].end]);
    ABBREVIATIONS.iter().any(|a| *a == prev || Some(*a) == dotted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words<'a>(text: &'a str, breaks: &[usize]) -> Vec<&'a str> {
        tokenize(text, breaks).iter().map(|t| &text[t.start..t.end]).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(words("[3H]-naloxone (8 nM),", &[]), ["[", "3H", "]", "-", "naloxone", "(", "8", "nM", ")", ","]);
        assert_eq!(words("DCTN4as", &[5]), ["DCTN4", "as"]);
        assert_eq!(words("café au lait", &[]), ["café", "au", "lait"]);
    }

    #[test]
    fn sentences() {
        let text = "Smith et al. found it. Dr. A. Jones agreed! 5 rats died. the end";
        let toks = tokenize(text, &[]);
        let s = split_sentences(text, &toks, &[]);
        let first: Vec<&str> = s.iter().map(|r| &text[toks[r.start].start..toks[r.end - 1].end]).collect();
        assert_eq!(first, ["Smith et al. found it.", "Dr. A. Jones agreed!", "5 rats died. the end"]);
        let protected = [(0, text.len())];
        assert_eq!(split_sentences(text, &toks, &protected).len(), 1);
    }
}
