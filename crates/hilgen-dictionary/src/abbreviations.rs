//! Abbreviations a document defines as `long form (ABBR)`: found after a match, they take the
//! match's label everywhere in the document; with local definitions (see
//! [`crate::DictionaryConfig::local_definitions`]) the document's definition also overrules the
//! dictionary's own reading of the short form there ("cyclophosphamide (CP)", not cerebral
//! palsy), and a short form defined after words no name matches ("Sprague-Dawley (SD)") is no
//! mention in that document.

use crate::matches::Match;
use hilgen_corpus::{Sentence, Span};

/// One definition in a document: the short form's tokens and the label its long form has
/// (`None`: its long form is no match, so the short form is no mention there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Definition {
    /// The short form, as tokens.
    pub abbr: Vec<String>,
    /// The long form's label, if it is a match.
    pub label: Option<String>,
}

/// The case-kept key of tokens: their alphanumeric characters.
pub(crate) fn exact_key<S: AsRef<str>>(tokens: &[S]) -> String {
    tokens.iter().flat_map(|t| t.as_ref().chars().filter(|c| c.is_alphanumeric())).collect()
}

/// Whether bracketed tokens can be a short form: one to three tokens, at least two
/// alphanumeric characters, a capital letter among them.
fn short_form(abbr: &[String]) -> Option<String> {
    let text = exact_key(abbr);
    (text.chars().count() >= 2 && text.chars().any(char::is_uppercase)).then_some(text)
}

/// The definitions of a document, first definition of each short form first: after a match
/// (the short form's first letter that of a word of the match), labelled; with `local`, also
/// after words no match touches that spell the short form (Schwartz and Hearst 2003: its
/// characters in order, right to left, the first at a word's start), unlabelled, unless those
/// words and one or two after the bracket are a name (`is_name`).
pub(crate) fn definitions(
    doc: &[Sentence],
    matches: &[Vec<Match>],
    local: bool,
    is_name: impl Fn(&[String]) -> bool,
) -> Vec<Definition> {
    let mut found: Vec<Definition> = Vec::new();
    for (s, ms) in doc.iter().zip(matches.iter()) {
        for open in 1..s.len() {
            if s.tokens[open] != "(" {
                continue;
            }
            let Some(close) = (open + 2..(open + 5).min(s.len())).find(|&j| s.tokens[j] == ")") else { continue };
            let abbr = &s.tokens[open + 1..close];
            let Some(text) = short_form(abbr) else { continue };
            if found.iter().any(|d| d.abbr == abbr) {
                continue;
            }
            let before = ms.iter().find(|m| m.span.end == open);
            let label = match before {
                Some(m) => {
                    let first = text.chars().next().map(|c| c.to_ascii_lowercase());
                    let long_initials: Vec<char> = s.tokens[m.span.start..open]
                        .iter()
                        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
                        .filter_map(|w| w.chars().next())
                        .map(|c| c.to_ascii_lowercase())
                        .collect();
                    if !first.is_some_and(|f| long_initials.contains(&f) || long_initials.is_empty()) {
                        continue;
                    }
                    Some(m.span.label.clone())
                }
                None if local => {
                    let Some(start) = long_form(&s.tokens[..open], &text) else { continue };
                    // Words a match touches may be a longer mention the names missed.
                    if ms.iter().any(|m| m.span.start < open && m.span.end > start) {
                        continue;
                    }
                    // "von Hippel-Lindau (VHL) disease": the long form and the words after the
                    // bracket make a name, so the short form may stand for it (VHL) or not
                    // ("glucose-6-phosphate dehydrogenase (G6PD) deficiency"): left alone.
                    let named = (1..=2).filter(|k| close + k < s.len()).any(|k| {
                        let mut long = s.tokens[start..open].to_vec();
                        long.extend_from_slice(&s.tokens[close + 1..close + 1 + k]);
                        is_name(&long)
                    });
                    if named {
                        continue;
                    }
                    None
                }
                None => continue,
            };
            found.push(Definition { abbr: abbr.to_vec(), label });
        }
    }
    found
}

/// Where the long form of `short` starts in `before` (the tokens before the bracket): the
/// short form's letters and digits found right to left in at most `min(n + 5, 2n)` words
/// (`n`: its length), its first character at the start of a word.
pub(crate) fn long_form(before: &[String], short: &str) -> Option<usize> {
    let short: Vec<char> = short.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    let n = short.len();
    let most = (n + 5).min(2 * n);
    // The window: tokens back to the `most`-th word.
    let mut words = 0;
    let mut from = before.len();
    while from > 0 && words < most {
        from -= 1;
        if crate::words::is_word(&before[from]) {
            words += 1;
        }
    }
    // Characters of the window, each with its token and whether it starts a word.
    let mut chars: Vec<(char, usize, bool)> = Vec::new();
    for (i, t) in before.iter().enumerate().skip(from) {
        let mut prev_alnum = false;
        for c in t.chars() {
            chars.push((c.to_lowercase().next().unwrap_or(c), i, !prev_alnum && c.is_alphanumeric()));
            prev_alnum = c.is_alphanumeric();
        }
    }
    let mut at = chars.len();
    for (k, &c) in short.iter().enumerate().rev() {
        loop {
            if at == 0 {
                return None;
            }
            at -= 1;
            let (ch, _, starts) = chars[at];
            if ch == c && (k > 0 || starts) {
                break;
            }
        }
    }
    Some(chars[at].1)
}

/// Each labelled short form labelled where it stands in the document and no match covers it;
/// with `local`, a match that is exactly a defined short form takes its definition's label,
/// or, defined without one, is dropped.
pub(crate) fn apply(doc: &[Sentence], matches: &mut [Vec<Match>], found: &[Definition], local: bool) {
    for d in found {
        let abbr = &d.abbr;
        for (s, ms) in doc.iter().zip(matches.iter_mut()) {
            if local {
                let is_abbr = |m: &Match| s.tokens[m.span.start..m.span.end] == abbr[..];
                match &d.label {
                    Some(label) => {
                        ms.iter_mut().filter(|m| is_abbr(m)).for_each(|m| m.span.label = label.clone());
                    }
                    None => ms.retain(|m| !is_abbr(m)),
                }
            }
            let Some(label) = &d.label else { continue };
            let k = abbr.len();
            let mut j = 0;
            while j + k <= s.len() {
                let free = ms.iter().all(|m| m.span.end <= j || m.span.start >= j + k);
                if free && s.tokens[j..j + k] == abbr[..] {
                    ms.push(Match { span: Span::new(j, j + k, label.clone()), key: exact_key(abbr), target: None });
                    j += k;
                } else {
                    j += 1;
                }
            }
            ms.sort_by_key(|m| m.span.start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(texts: &[&str]) -> Vec<Sentence> {
        texts
            .iter()
            .map(|t| {
                let tokens: Vec<String> = t.split(' ').map(String::from).collect();
                let mut s = Sentence::new(tokens.clone(), vec!["O".into(); tokens.len()]).unwrap();
                s.doc_id = Some("1".into());
                s
            })
            .collect()
    }

    fn at(start: usize, end: usize, label: &str) -> Match {
        Match { span: Span::new(start, end, label), key: String::new(), target: None }
    }

    fn spans(ms: &[Vec<Match>]) -> Vec<Vec<(usize, String)>> {
        ms.iter().map(|s| s.iter().map(|m| (m.span.start, m.span.label.clone())).collect()).collect()
    }

    #[test]
    fn abbreviations_take_their_long_form_label() {
        let doc = doc(&["streptozotocin ( STZ ) was given", "STZ caused diabetes"]);
        let mut ms = vec![vec![at(0, 1, "Chemical")], vec![at(2, 3, "Disease")]];
        let found = definitions(&doc, &ms, false, |_| false);
        apply(&doc, &mut ms, &found, false);
        assert_eq!(
            spans(&ms),
            [vec![(0, "Chemical".into()), (2, "Chemical".into())], vec![(0, "Chemical".into()), (2, "Disease".into())]]
        );
    }

    #[test]
    fn local_definitions_overrule_the_dictionary() {
        let doc = doc(&["Cyclophosphamide ( CP ) and Sprague - Dawley ( SD ) rats", "CP was given to SD rats with CP"]);
        // The dictionary reads "CP" as a disease (cerebral palsy) and "SD" as one too.
        let matched = || {
            vec![
                vec![at(0, 1, "Chemical"), at(2, 3, "Disease"), at(9, 10, "Disease")],
                vec![at(0, 1, "Disease"), at(4, 5, "Disease"), at(7, 8, "Disease")],
            ]
        };
        let mut off = matched();
        let found = definitions(&doc, &off, false, |_| false);
        assert_eq!(found.len(), 1);
        apply(&doc, &mut off, &found, false);
        assert_eq!(off, matched(), "without local definitions the dictionary's readings stay");
        let mut on = matched();
        let found = definitions(&doc, &on, true, |_| false);
        assert_eq!(
            found,
            [
                Definition { abbr: vec!["CP".into()], label: Some("Chemical".into()) },
                Definition { abbr: vec!["SD".into()], label: None },
            ]
        );
        apply(&doc, &mut on, &found, true);
        assert_eq!(
            spans(&on),
            [
                vec![(0, "Chemical".into()), (2, "Chemical".into())],
                vec![(0, "Chemical".into()), (7, "Chemical".into())]
            ]
        );
    }

    #[test]
    fn a_match_inside_the_long_form_keeps_the_short_form() {
        // "colorectal cancer" ends at the bracket but "HNPCC" does not start with its initials;
        // its long form holds a match, so "HNPCC" keeps what the dictionary says.
        let doc = doc(&["hereditary nonpolyposis colorectal cancer ( HNPCC )", "HNPCC families"]);
        let ms = vec![vec![at(2, 4, "Disease"), at(5, 6, "Disease")], vec![at(0, 1, "Disease")]];
        assert_eq!(definitions(&doc, &ms, true, |_| false), []);
    }

    #[test]
    fn a_long_form_and_the_words_after_leave_the_short_form_alone() {
        let doc = doc(&["von Hippel - Lindau ( VHL ) disease", "VHL patients"]);
        let ms = vec![vec![at(6, 7, "Disease")], vec![at(0, 1, "Disease")]];
        let is_name = |t: &[String]| t.join(" ") == "von Hippel - Lindau disease";
        assert_eq!(definitions(&doc, &ms, true, is_name), []);
        assert_eq!(definitions(&doc, &ms, true, |_| false).len(), 1);
    }

    #[test]
    fn long_forms_spell_their_short_form() {
        let words = |t: &str| t.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(long_form(&words("in Sprague - Dawley"), "SD"), Some(1));
        assert_eq!(long_form(&words("both nuclear and mitochondrial DNA"), "mtDNA"), Some(3));
        assert_eq!(long_form(&words("the group"), "OD"), None);
        // The first character must start a word: "ND" is not in "and".
        assert_eq!(long_form(&words("and"), "ND"), None);
    }
}
