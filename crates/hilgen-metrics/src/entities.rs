//! Entity extraction exactly as seqeval 1.2.2 does it, in its two modes.
//!
//! - [`default_entities`]: seqeval's default (conlleval-compatible) chunking. As in seqeval, the
//!   sentences are concatenated with an `O` after each, offsets are global, the first character
//!   of a tag is its prefix and the text after the first `-` its type (`_` when empty), and any
//!   string is accepted.
//! - [`strict_entities`]: seqeval's `mode="strict"` with a scheme: each sentence is read with
//!   the scheme's start / inside / end patterns and entities that do not end properly are
//!   dropped. A prefix the scheme does not allow is an error, as in seqeval.

use crate::error::{MetricsError, Result};
use hilgen_corpus::Scheme;

/// An entity: type and token range (`end` exclusive) in a given sentence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entity<'a> {
    /// Entity type.
    pub label: &'a str,
    /// Sentence index.
    pub sentence: usize,
    /// First token (in default mode: global offset in the concatenation).
    pub start: usize,
    /// One past the last token.
    pub end: usize,
}

/// seqeval's default-mode prefix and type of a tag.
fn split_default(tag: &str) -> (char, &str) {
    let mut chars = tag.chars();
    let prefix = chars.next().unwrap_or('O');
    let rest = chars.as_str();
    let ty = match rest.split_once('-') {
        Some((_, after)) => after,
        None => rest,
    };
    (prefix, if ty.is_empty() { "_" } else { ty })
}

fn end_of_chunk(prev: char, cur: char, prev_type: &str, cur_type: &str) -> bool {
    prev == 'E'
        || prev == 'S'
        || (prev == 'B' && matches!(cur, 'B' | 'S' | 'O'))
        || (prev == 'I' && matches!(cur, 'B' | 'S' | 'O'))
        || (prev != 'O' && prev != '.' && prev_type != cur_type)
}

fn start_of_chunk(prev: char, cur: char, prev_type: &str, cur_type: &str) -> bool {
    cur == 'B'
        || cur == 'S'
        || (prev == 'E' && matches!(cur, 'E' | 'I'))
        || (prev == 'S' && matches!(cur, 'E' | 'I'))
        || (prev == 'O' && matches!(cur, 'E' | 'I'))
        || (cur != 'O' && cur != '.' && prev_type != cur_type)
}

/// seqeval's default-mode entities of all sentences (see the module docs). `sentence` is the
/// sentence where the entity starts; `start`/`end` are global offsets.
pub fn default_entities<'a, Q: AsRef<[S]>, S: AsRef<str> + 'a>(sentences: &'a [Q]) -> Vec<Entity<'a>> {
    let mut out = Vec::new();
    let (mut prev, mut prev_type) = ('O', "");
    let (mut begin, mut begin_sentence, mut offset) = (0usize, 0usize, 0usize);
    // Each sentence's tags, then the separator "O"; after all of them, the final sentinel "O".
    let flat = sentences
        .iter()
        .enumerate()
        .flat_map(|(si, s)| s.as_ref().iter().map(AsRef::as_ref).chain(["O"]).map(move |t| (si, t)))
        .chain([(sentences.len(), "O")]);
    for (si, tag) in flat {
        let (cur, ty) = split_default(tag);
        if end_of_chunk(prev, cur, prev_type, ty) {
            out.push(Entity { label: prev_type, sentence: begin_sentence, start: begin, end: offset });
        }
        if start_of_chunk(prev, cur, prev_type, ty) {
            begin = offset;
            begin_sentence = si;
        }
        prev = cur;
        prev_type = ty;
        offset += 1;
    }
    out
}

/// Prefix letters as bit flags (seqeval's `Prefix` flag enum).
mod prefix {
    pub const I: u8 = 1;
    pub const O: u8 = 2;
    pub const B: u8 = 4;
    pub const E: u8 = 8;
    pub const S: u8 = 16;
    pub const U: u8 = 32;
    pub const L: u8 = 64;
    pub const ANY: u8 = I | O | B | E | S | U | L;
}

/// seqeval's tag conditions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cond {
    Same,
    Diff,
    Any,
}

type Pattern = (u8, u8, Cond);

/// One scheme of seqeval's `seqeval.scheme` module.
struct StrictScheme {
    allowed: u8,
    allowed_text: &'static str,
    start: &'static [Pattern],
    inside: &'static [Pattern],
    end: &'static [Pattern],
}

fn strict_scheme(scheme: Scheme) -> Result<StrictScheme> {
    use prefix::*;
    use Cond::*;
    Ok(match scheme {
        Scheme::Iob1 => StrictScheme {
            allowed: I | O | B,
            allowed_text: "I|O|B",
            start: &[(O, I, Any), (I, I, Diff), (B, I, Any), (I, B, Same), (B, B, Same)],
            inside: &[(B, I, Same), (I, I, Same)],
            end: &[(I, I, Diff), (I, O, Any), (I, B, Any), (B, O, Any), (B, I, Diff), (B, B, Same)],
        },
        Scheme::Ioe1 => StrictScheme {
            allowed: I | O | E,
            allowed_text: "I|O|E",
            start: &[(O, I, Any), (I, I, Diff), (E, I, Any), (E, E, Same)],
            inside: &[(I, I, Same), (I, E, Same)],
            end: &[(I, I, Diff), (I, O, Any), (I, E, Diff), (E, I, Same), (E, E, Same)],
        },
        Scheme::Iob2 => StrictScheme {
            allowed: I | O | B,
            allowed_text: "I|O|B",
            start: &[(ANY, B, Any)],
            inside: &[(B, I, Same), (I, I, Same)],
            end: &[(I, O, Any), (I, I, Diff), (I, B, Any), (B, O, Any), (B, I, Diff), (B, B, Any)],
        },
        Scheme::Ioe2 => StrictScheme {
            allowed: I | O | E,
            allowed_text: "I|O|E",
            start: &[(O, I, Any), (O, E, Any), (E, I, Any), (E, E, Any), (I, I, Diff), (I, E, Diff)],
            inside: &[(I, E, Same), (I, I, Same)],
            end: &[(E, ANY, Any)],
        },
        Scheme::Iobes => StrictScheme {
            allowed: I | O | B | E | S,
            allowed_text: "I|O|B|E|S",
            start: &[(ANY, B, Any), (ANY, S, Any)],
            inside: &[(B, I, Same), (B, E, Same), (I, I, Same), (I, E, Same)],
            end: &[(S, ANY, Any), (E, ANY, Any)],
        },
        Scheme::Bilou => StrictScheme {
            allowed: B | I | L | O | U,
            allowed_text: "B|I|L|O|U",
            start: &[(ANY, B, Any), (ANY, U, Any)],
            inside: &[(B, I, Same), (B, L, Same), (I, I, Same), (I, L, Same)],
            end: &[(U, ANY, Any), (L, ANY, Any)],
        },
        Scheme::Io => {
            return Err(MetricsError::Invalid(
                "strict mode supports iob1, iob2, ioe1, ioe2, iobes and bilou (as seqeval); io has no strict form"
                    .into(),
            ))
        }
    })
}

/// A token as seqeval's strict mode reads it.
#[derive(Clone, Copy)]
struct Tok<'a> {
    prefix: u8,
    tag: &'a str,
}

impl<'a> Tok<'a> {
    const OUTSIDE: Tok<'static> = Tok { prefix: prefix::O, tag: "_" };

    fn parse(token: &'a str) -> Option<Tok<'a>> {
        let mut chars = token.chars();
        let p = match chars.next()? {
            'I' => prefix::I,
            'O' => prefix::O,
            'B' => prefix::B,
            'E' => prefix::E,
            'S' => prefix::S,
            'U' => prefix::U,
            'L' => prefix::L,
            _ => return None,
        };
        let tag = chars.as_str().trim_matches('-');
        Some(Tok { prefix: p, tag: if tag.is_empty() { "_" } else { tag } })
    }

    fn matches(self, prev: Tok<'_>, patterns: &[Pattern]) -> bool {
        patterns.iter().any(|&(p1, p2, cond)| {
            prev.prefix & p1 != 0
                && self.prefix & p2 != 0
                && match cond {
                    Cond::Any => true,
                    Cond::Same => prev.tag == self.tag,
                    Cond::Diff => prev.tag != self.tag,
                }
        })
    }
}

/// seqeval's strict-mode entities of all sentences (see the module docs); offsets are within
/// each sentence.
pub fn strict_entities<'a, Q: AsRef<[S]>, S: AsRef<str> + 'a>(
    sentences: &'a [Q],
    scheme: Scheme,
) -> Result<Vec<Entity<'a>>> {
    let sc = strict_scheme(scheme)?;
    let mut out = Vec::new();
    let mut ext: Vec<Tok<'a>> = Vec::new();
    for (si, s) in sentences.iter().enumerate() {
        let s = s.as_ref();
        ext.clear();
        for (ti, t) in s.iter().enumerate() {
            let t = t.as_ref();
            let tok = Tok::parse(t).ok_or_else(|| MetricsError::StrictTag {
                sentence: si,
                token: ti,
                tag: t.to_string(),
                scheme: scheme.to_string(),
                message: "the first character must be one of I, O, B, E, S, U, L".into(),
            })?;
            ext.push(tok);
        }
        ext.push(Tok::OUTSIDE);
        let n_tokens = s.len();
        let mut i = 0;
        let mut prev = Tok::OUTSIDE;
        while i < ext.len() {
            let tok = ext[i];
            if tok.prefix & sc.allowed == 0 {
                return Err(MetricsError::StrictTag {
                    sentence: si,
                    token: i,
                    tag: s[i].as_ref().to_string(),
                    scheme: scheme.to_string(),
                    message: format!("allowed prefixes are {}", sc.allowed_text),
                });
            }
            if tok.matches(prev, sc.start) {
                let end = forward(&ext, i + 1, tok, sc.inside, n_tokens);
                if ext[end].matches(ext[end - 1], sc.end) {
                    out.push(Entity { label: tok.tag, sentence: si, start: i, end });
                }
                i = end;
            } else {
                i += 1;
            }
            prev = ext[i - 1];
        }
    }
    Ok(out)
}

fn forward<'a>(ext: &[Tok<'a>], start: usize, mut prev: Tok<'a>, inside: &[Pattern], n_tokens: usize) -> usize {
    for (i, tok) in ext.iter().enumerate().skip(start) {
        if tok.matches(prev, inside) {
            prev = *tok;
        } else {
            return i;
        }
    }
    // seqeval's fallback; unreachable for its schemes since the final `O` is never inside.
    n_tokens.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(s: &[&str]) -> Vec<Vec<String>> {
        s.iter().map(|x| x.split_whitespace().map(String::from).collect()).collect()
    }

    fn spans(e: &[Entity<'_>]) -> Vec<(String, usize, usize)> {
        e.iter().map(|e| (e.label.to_string(), e.start, e.end)).collect()
    }

    #[test]
    fn default_mode_matches_seqeval_examples() {
        // seqeval docs: get_entities(['B-PER', 'I-PER', 'O', 'B-LOC']) == [('PER', 0, 1), ('LOC', 3, 3)]
        let s = seqs(&["B-PER I-PER O B-LOC"]);
        assert_eq!(spans(&default_entities(&s)), [("PER".into(), 0, 2), ("LOC".into(), 3, 4)]);
        // Lenient: I after O starts an entity; sentences are joined with an O.
        let s = seqs(&["O I-X I-X", "I-X"]);
        assert_eq!(spans(&default_entities(&s)), [("X".into(), 1, 3), ("X".into(), 4, 5)]);
        assert_eq!(default_entities(&s)[1].sentence, 1);
    }

    #[test]
    fn strict_mode_drops_ill_formed_and_rejects_bad_prefixes() {
        let s = seqs(&["I-X I-X O B-Y I-Y"]);
        let e = strict_entities(&s, Scheme::Iob2).unwrap();
        assert_eq!(spans(&e), [("Y".into(), 3, 5)]);
        assert!(strict_entities(&seqs(&["S-X"]), Scheme::Iob2).is_err());
        assert!(strict_entities(&seqs(&["Q-X"]), Scheme::Iobes).is_err());
        assert!(strict_entities(&seqs(&["O"]), Scheme::Io).is_err());
        let s = seqs(&["B-X I-X E-X S-Y"]);
        let e = strict_entities(&s, Scheme::Iobes).unwrap();
        assert_eq!(spans(&e), [("X".into(), 0, 3), ("Y".into(), 3, 4)]);
    }
}
