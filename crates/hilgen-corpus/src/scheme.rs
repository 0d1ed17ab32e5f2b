//! Tagging schemes: parsing tags, spans <-> tags, conversion, strict validation, lenient repair.
//!
//! All schemes share one chunker (the conlleval / seqeval default rules over the roles
//! Begin, Inside, End, Single, Outside; BILOU's `L` and `U` act as `E` and `S`). On a sequence
//! that is valid in a scheme, the chunker returns exactly its entities, and encoding those
//! entities in the same scheme gives the sequence back. Strict validation is that round trip: the
//! first token where `encode(decode(tags))` differs from `tags` is the first invalid one.
//! Lenient repair is `encode(decode(tags))` itself (so `I-X` after `O` starts an entity).

use crate::error::{CorpusError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A tagging scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// `I-X` inside, `O` outside; adjacent entities of one type cannot be told apart.
    Io,
    /// `I-X` inside; `B-X` only on the first token of an entity that follows one of the same type.
    Iob1,
    /// `B-X` on the first token of every entity, `I-X` on the rest (also called BIO).
    Iob2,
    /// `I-X` inside; `E-X` only on the last token of an entity followed by one of the same type.
    Ioe1,
    /// `E-X` on the last token of every entity, `I-X` on the rest.
    Ioe2,
    /// `S-X` single tokens, `B-X`, `I-X`, `E-X` for longer entities (also called BIOES).
    Iobes,
    /// As IOBES with `U` (unit) for `S` and `L` (last) for `E`.
    Bilou,
}

impl Scheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [Scheme; 7] =
        [Scheme::Io, Scheme::Iob1, Scheme::Iob2, Scheme::Ioe1, Scheme::Ioe2, Scheme::Iobes, Scheme::Bilou];

    /// The prefix letter for a token at `pos` of an entity of `len` tokens, given whether the
    /// previous token ends / the next token starts an adjacent entity of the same type.
    fn prefix(self, pos: usize, len: usize, same_type_before: bool, same_type_after: bool) -> Prefix {
        let first = pos == 0;
        let last = pos + 1 == len;
        match self {
            Scheme::Io => Prefix::I,
            Scheme::Iob1 if first && same_type_before => Prefix::B,
            Scheme::Iob1 => Prefix::I,
            Scheme::Iob2 if first => Prefix::B,
            Scheme::Iob2 => Prefix::I,
            Scheme::Ioe1 if last && same_type_after => Prefix::E,
            Scheme::Ioe1 => Prefix::I,
            Scheme::Ioe2 if last => Prefix::E,
            Scheme::Ioe2 => Prefix::I,
            Scheme::Iobes | Scheme::Bilou => {
                let bilou = self == Scheme::Bilou;
                match (first, last) {
                    (true, true) if bilou => Prefix::U,
                    (true, true) => Prefix::S,
                    (true, false) => Prefix::B,
                    (false, true) if bilou => Prefix::L,
                    (false, true) => Prefix::E,
                    (false, false) => Prefix::I,
                }
            }
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Scheme::Io => "io",
            Scheme::Iob1 => "iob1",
            Scheme::Iob2 => "iob2",
            Scheme::Ioe1 => "ioe1",
            Scheme::Ioe2 => "ioe2",
            Scheme::Iobes => "iobes",
            Scheme::Bilou => "bilou",
        };
        f.write_str(s)
    }
}

impl FromStr for Scheme {
    type Err = CorpusError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "io" => Scheme::Io,
            "iob1" => Scheme::Iob1,
            "iob2" | "iob" | "bio" => Scheme::Iob2,
            "ioe1" => Scheme::Ioe1,
            "ioe2" => Scheme::Ioe2,
            "iobes" | "bioes" => Scheme::Iobes,
            "bilou" => Scheme::Bilou,
            _ => {
                return Err(CorpusError::Invalid(format!(
                "unknown tagging scheme `{s}`; expected one of io, iob1, iob2 (bio), ioe1, ioe2, iobes (bioes), bilou"
            )))
            }
        })
    }
}

/// The prefix letter of a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// Begin.
    B,
    /// Inside.
    I,
    /// Outside (the tag `O`).
    O,
    /// End.
    E,
    /// Single.
    S,
    /// Last (BILOU's end).
    L,
    /// Unit (BILOU's single).
    U,
}

impl Prefix {
    /// The role in the shared chunker: `L` acts as `E`, `U` as `S`.
    fn role(self) -> Prefix {
        match self {
            Prefix::L => Prefix::E,
            Prefix::U => Prefix::S,
            p => p,
        }
    }

    fn letter(self) -> char {
        match self {
            Prefix::B => 'B',
            Prefix::I => 'I',
            Prefix::O => 'O',
            Prefix::E => 'E',
            Prefix::S => 'S',
            Prefix::L => 'L',
            Prefix::U => 'U',
        }
    }

    fn from_letter(c: &str) -> Option<Prefix> {
        Some(match c {
            "B" => Prefix::B,
            "I" => Prefix::I,
            "O" => Prefix::O,
            "E" => Prefix::E,
            "S" => Prefix::S,
            "L" => Prefix::L,
            "U" => Prefix::U,
            _ => return None,
        })
    }
}

/// A parsed tag: a prefix and, unless it is `O`, an entity type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag<'a> {
    /// The prefix letter.
    pub prefix: Prefix,
    /// The entity type; empty for `O`.
    pub label: &'a str,
}

impl<'a> Tag<'a> {
    /// Parses `O` or `P-TYPE` (P one of B I E S L U).
    pub fn parse(s: &'a str) -> Result<Tag<'a>> {
        if s == "O" {
            return Ok(Tag { prefix: Prefix::O, label: "" });
        }
        let bad = |m: &str| CorpusError::InvalidTag { tag: s.to_string(), message: m.to_string() };
        let (p, label) = s.split_once('-').ok_or_else(|| bad("expected `O` or PREFIX-TYPE, e.g. `B-Disease`"))?;
        let prefix = Prefix::from_letter(p)
            .filter(|p| *p != Prefix::O)
            .ok_or_else(|| bad("the prefix must be one of B, I, E, S, L, U"))?;
        if label.is_empty() || label.chars().any(char::is_whitespace) {
            return Err(bad("the entity type must be non-empty and contain no whitespace"));
        }
        Ok(Tag { prefix, label })
    }

    /// Formats the tag back (`O` or `P-TYPE`).
    pub fn render(prefix: Prefix, label: &str) -> String {
        if prefix == Prefix::O {
            "O".to_string()
        } else {
            format!("{}-{}", prefix.letter(), label)
        }
    }
}

/// An entity: tokens `start..end` (end exclusive) of type `label`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First token (0-based).
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// Entity type.
    pub label: String,
}

impl Span {
    /// Whether the two spans share a token (labels aside).
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Builds a span.
    pub fn new(start: usize, end: usize, label: impl Into<String>) -> Span {
        Span { start, end, label: label.into() }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the span covers no token.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Parses every tag of a sentence.
pub fn parse_tags<S: AsRef<str>>(tags: &[S]) -> Result<Vec<Tag<'_>>> {
    tags.iter().map(|t| Tag::parse(t.as_ref())).collect()
}

/// Lenient chunking (conlleval / seqeval default rules): never fails, `I-X` after `O` starts an
/// entity, a change of type ends one.
pub fn decode_lenient(tags: &[Tag<'_>]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut prev = Prefix::O;
    let mut prev_type = "";
    let mut begin = 0;
    let outside = Tag { prefix: Prefix::O, label: "" };
    for (i, tag) in tags.iter().chain(std::iter::once(&outside)).enumerate() {
        let cur = tag.prefix.role();
        if end_of_chunk(prev, cur, prev_type, tag.label) {
            spans.push(Span::new(begin, i, prev_type));
        }
        if start_of_chunk(prev, cur, prev_type, tag.label) {
            begin = i;
        }
        prev = cur;
        prev_type = tag.label;
    }
    spans
}

fn end_of_chunk(prev: Prefix, cur: Prefix, prev_type: &str, cur_type: &str) -> bool {
    use Prefix::*;
    matches!(prev, E | S) || (matches!(prev, B | I) && matches!(cur, B | S | O)) || (prev != O && prev_type != cur_type)
}

fn start_of_chunk(prev: Prefix, cur: Prefix, prev_type: &str, cur_type: &str) -> bool {
    use Prefix::*;
    matches!(cur, B | S) || (matches!(prev, E | S | O) && matches!(cur, E | I)) || (cur != O && prev_type != cur_type)
}

/// Encodes entities over `len` tokens in `scheme`. Spans must be sorted, non-overlapping and
/// inside `0..len`; otherwise an error says which one is wrong.
pub fn encode(spans: &[Span], len: usize, scheme: Scheme) -> Result<Vec<String>> {
    let mut tags = vec!["O".to_string(); len];
    for (k, span) in spans.iter().enumerate() {
        if span.is_empty() || span.end > len {
            return Err(CorpusError::Invalid(format!(
                "span {}..{} ({}) is empty or outside the {len} tokens",
                span.start, span.end, span.label
            )));
        }
        let prev = k.checked_sub(1).map(|j| &spans[j]);
        if prev.is_some_and(|p| p.end > span.start) {
            return Err(CorpusError::Invalid(format!(
                "span {}..{} ({}) overlaps or precedes the previous one",
                span.start, span.end, span.label
            )));
        }
        let before = prev.is_some_and(|p| p.end == span.start && p.label == span.label);
        let after = spans.get(k + 1).is_some_and(|n| n.start == span.end && n.label == span.label);
        for pos in 0..span.len() {
            let prefix = scheme.prefix(pos, span.len(), before, after);
            tags[span.start + pos] = Tag::render(prefix, &span.label);
        }
    }
    Ok(tags)
}

/// Where a tag sequence first breaks a scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 0-based token index.
    pub token: usize,
    /// The tag found there.
    pub found: String,
    /// The tag the scheme's repair puts there.
    pub expected: String,
}

/// Strictly decodes a sentence's tags: its entities, or the first token that breaks `scheme`.
pub fn decode_strict<S: AsRef<str>>(tags: &[S], scheme: Scheme) -> Result<std::result::Result<Vec<Span>, Violation>> {
    let parsed = parse_tags(tags)?;
    let spans = decode_lenient(&parsed);
    let canonical = encode(&spans, tags.len(), scheme)?;
    match canonical.iter().zip(tags).position(|(c, t)| c != t.as_ref()) {
        None => Ok(Ok(spans)),
        Some(token) => {
            Ok(Err(Violation { token, found: tags[token].as_ref().to_string(), expected: canonical[token].clone() }))
        }
    }
}

/// Converts a valid sequence from one scheme to another (strict on the input).
pub fn convert<S: AsRef<str>>(
    tags: &[S],
    from: Scheme,
    to: Scheme,
) -> Result<std::result::Result<Vec<String>, Violation>> {
    Ok(match decode_strict(tags, from)? {
        Ok(spans) => Ok(encode(&spans, tags.len(), to)?),
        Err(v) => Err(v),
    })
}

/// What a lenient repair changed, counted by kind (`found -> replaced` prefix pairs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Sentences with at least one changed tag.
    pub sentences: usize,
    /// Tags changed.
    pub tokens: usize,
    /// Changes by kind, e.g. `"I->B"` (an `I-X` that started an entity became `B-X`).
    pub by_kind: std::collections::BTreeMap<String, usize>,
}

impl RepairReport {
    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: &RepairReport) {
        self.sentences += other.sentences;
        self.tokens += other.tokens;
        for (k, v) in &other.by_kind {
            *self.by_kind.entry(k.clone()).or_default() += v;
        }
    }
}

/// Repairs a sequence leniently into a valid one of `scheme`, reporting what changed.
pub fn repair<S: AsRef<str>>(tags: &[S], scheme: Scheme) -> Result<(Vec<String>, RepairReport)> {
    let parsed = parse_tags(tags)?;
    let fixed = encode(&decode_lenient(&parsed), tags.len(), scheme)?;
    let mut report = RepairReport::default();
    for (old, new) in tags.iter().zip(&fixed) {
        let old = old.as_ref();
        if old != new {
            report.tokens += 1;
            let kind = format!("{}->{}", &old[..1], &new[..1]);
            *report.by_kind.entry(kind).or_default() += 1;
        }
    }
    report.sentences = usize::from(report.tokens > 0);
    Ok((fixed, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn encodes_each_scheme() {
        let spans = vec![Span::new(0, 2, "X"), Span::new(2, 3, "X"), Span::new(4, 5, "Y")];
        let want = [
            (Scheme::Io, "I-X I-X I-X O I-Y"),
            (Scheme::Iob1, "I-X I-X B-X O I-Y"),
            (Scheme::Iob2, "B-X I-X B-X O B-Y"),
            (Scheme::Ioe1, "I-X E-X I-X O I-Y"),
            (Scheme::Ioe2, "I-X E-X E-X O E-Y"),
            (Scheme::Iobes, "B-X E-X S-X O S-Y"),
            (Scheme::Bilou, "B-X L-X U-X O U-Y"),
        ];
        for (scheme, tags) in want {
            assert_eq!(encode(&spans, 5, scheme).unwrap(), v(tags), "{scheme}");
            if scheme != Scheme::Io {
                assert_eq!(decode_strict(&v(tags), scheme).unwrap().unwrap(), spans, "{scheme}");
            }
        }
    }

    #[test]
    fn strict_names_first_bad_token() {
        let err = decode_strict(&v("O I-X I-X"), Scheme::Iob2).unwrap().unwrap_err();
        assert_eq!(err, Violation { token: 1, found: "I-X".into(), expected: "B-X".into() });
        let err = decode_strict(&v("B-X I-Y"), Scheme::Iob2).unwrap().unwrap_err();
        assert_eq!(err.token, 1);
        let err = decode_strict(&v("B-X O"), Scheme::Iobes).unwrap().unwrap_err();
        assert_eq!(err.expected, "S-X");
        assert!(decode_strict(&v("S-X"), Scheme::Iob2).unwrap().is_err());
    }

    #[test]
    fn lenient_repair_counts() {
        let (fixed, rep) = repair(&v("O I-X I-X O I-Y B-Y"), Scheme::Iob2).unwrap();
        assert_eq!(fixed, v("O B-X I-X O B-Y B-Y"));
        assert_eq!(rep.tokens, 2);
        assert_eq!(rep.by_kind["I->B"], 2);
    }

    #[test]
    fn bad_tags_are_errors() {
        for t in ["B", "X-Foo", "B-", "b-X", "O-X"] {
            assert!(Tag::parse(t).is_err(), "{t}");
        }
        assert!("iob3".parse::<Scheme>().is_err());
        assert_eq!("BIOES".parse::<Scheme>().unwrap(), Scheme::Iobes);
    }

    #[test]
    fn encode_rejects_overlap() {
        assert!(encode(&[Span::new(0, 2, "X"), Span::new(1, 3, "X")], 3, Scheme::Iob2).is_err());
        assert!(encode(&[Span::new(0, 4, "X")], 3, Scheme::Iob2).is_err());
    }
}
