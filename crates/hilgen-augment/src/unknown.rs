//! Partial annotation of silver labels: which words a dictionary left `O` may be entities it
//! has no entry for. Those words are marked unknown ([`Sentence::unknown`]) and training leaves
//! them out of the loss, so the tagger is not taught "not an entity" where the dictionary was
//! only silent (AutoNER's unknown words, Conf-MPU's unlabelled positives), while the words that
//! do not look like entity words still teach `O`.
//!
//! ```
//! use hilgen_augment::unknown::UnknownRule;
//! use hilgen_corpus::Sentence;
//! let s = |t: &[&str], g: &[&str]| {
//!     Sentence::new(t.iter().map(|x| x.to_string()).collect(), g.iter().map(|x| x.to_string()).collect()).unwrap()
//! };
//! // The dictionary matched lidocaine and bupivacaine, not ropivacaine.
//! let mut pool = vec![
//!     s(&["lidocaine", "was", "given"], &["B-Chemical", "O", "O"]),
//!     s(&["bupivacaine", "was", "given"], &["B-Chemical", "O", "O"]),
//!     s(&["ropivacaine", "was", "given"], &["O", "O", "O"]),
//! ];
//! let rule = UnknownRule::EntityLike { suffix: 5, min_share: 0.5, min_count: 2 };
//! let marked = rule.mark(&mut pool);
//! assert_eq!((marked, pool[2].unknown.clone()), (1, vec![0]));
//! ```

use hilgen_corpus::Sentence;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Which `O` words of dictionary-labelled sentences are marked unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum UnknownRule {
    /// Every `O` word (AutoNER's treatment of unmatched text; the same as `o_weight = 0`).
    All,
    /// Words that look like the dictionary's own matches in this text: a word is unknown when
    /// its last `suffix` letters, or its shape (`GTN` and `PTLD` are `A`, `MK-801` is `A-0`),
    /// occur at least `min_count` times inside matched mentions and make up at least
    /// `min_share` of their occurrences there (`-caine`, `-itis`, all-capital acronyms, ...).
    EntityLike {
        /// Letters of the suffix (words of more letters only).
        #[serde(default = "default_suffix")]
        suffix: usize,
        /// Share of a feature's words inside matches, at least.
        #[serde(default = "default_min_share")]
        min_share: f64,
        /// Occurrences inside matches, at least.
        #[serde(default = "default_min_count")]
        min_count: usize,
    },
}

fn default_suffix() -> usize {
    4
}
fn default_min_share() -> f64 {
    0.3
}
fn default_min_count() -> usize {
    5
}

impl UnknownRule {
    /// Whether the parameters make sense (a suffix of at least 2 letters, a share in (0, 1], a
    /// count of at least 1); the reason otherwise.
    pub fn check(&self) -> Result<(), String> {
        match *self {
            UnknownRule::All => Ok(()),
            UnknownRule::EntityLike { suffix, min_share, min_count } => {
                if suffix < 2 || !(min_share > 0.0 && min_share <= 1.0) || min_count == 0 {
                    return Err(
                        "unknown: suffix must be at least 2, min_share in (0, 1] and min_count at least 1".into()
                    );
                }
                Ok(())
            }
        }
    }

    /// Marks the unknown `O` words of `sentences` (learning the rule's features from these
    /// sentences' own labels); returns how many words it marked.
    pub fn mark(&self, sentences: &mut [Sentence]) -> usize {
        // The features that make a word unknown (`None`: every `O` word), and the suffix length
        // they were counted with.
        let (entity_like, suffix): (Option<HashSet<String>>, usize) = match *self {
            UnknownRule::All => (None, 0),
            UnknownRule::EntityLike { suffix, min_share, min_count } => {
                let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
                for s in sentences.iter() {
                    for (w, t) in s.tokens.iter().zip(&s.tags) {
                        for f in features(w, suffix) {
                            let c = counts.entry(f).or_default();
                            c.0 += 1;
                            c.1 += usize::from(t != "O");
                        }
                    }
                }
                let set = counts
                    .into_iter()
                    .filter(|(_, (all, inside))| *inside >= min_count && *inside as f64 >= min_share * *all as f64)
                    .map(|(f, _)| f)
                    .collect();
                (Some(set), suffix)
            }
        };
        let mut marked = 0;
        for s in sentences.iter_mut() {
            s.unknown = (0..s.len())
                .filter(|&i| s.tags[i] == "O")
                .filter(|&i| match &entity_like {
                    None => true,
                    Some(set) => features(&s.tokens[i], suffix).any(|f| set.contains(&f)),
                })
                .collect();
            marked += s.unknown.len();
        }
        marked
    }
}

/// A word's features: `s:` its last `suffix` letters (alphabetic words longer than that,
/// lowercased) and `h:` its shape when it holds a capital or a digit beside letters (capital
/// runs `A`, lowercase runs `a`, digit runs `0`, other characters as they are).
fn features(word: &str, suffix: usize) -> impl Iterator<Item = String> {
    let chars: Vec<char> = word.chars().collect();
    let suf = (suffix > 0 && chars.len() > suffix && chars.iter().all(|c| c.is_alphabetic())).then(|| {
        let tail: String = chars[chars.len() - suffix..].iter().collect();
        format!("s:{}", tail.to_lowercase())
    });
    let has_letter = chars.iter().any(|c| c.is_alphabetic());
    let marked_shape = has_letter && chars.iter().skip(1).any(|c| c.is_uppercase() || c.is_ascii_digit())
        || chars.len() > 1 && chars.iter().all(|c| c.is_uppercase());
    let shape = marked_shape.then(|| {
        let mut out = String::from("h:");
        let mut last = None;
        for c in &chars {
            let k = if c.is_uppercase() {
                'A'
            } else if c.is_alphabetic() {
                'a'
            } else if c.is_ascii_digit() {
                '0'
            } else {
                *c
            };
            if last != Some(k) || !matches!(k, 'A' | 'a' | '0') {
                out.push(k);
            }
            last = Some(k);
        }
        out
    });
    suf.into_iter().chain(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &[&str], g: &[&str]) -> Sentence {
        Sentence::new(t.iter().map(|x| x.to_string()).collect(), g.iter().map(|x| x.to_string()).collect()).unwrap()
    }

    #[test]
    fn shapes_and_suffixes() {
        let f = |w| features(w, 4).collect::<Vec<_>>();
        assert_eq!(f("GTN"), ["h:A"]);
        assert_eq!(f("MK-801"), ["h:A-0"]);
        assert_eq!(f("Ropivacaine"), ["s:aine"]);
        assert_eq!(f("COCs"), ["h:Aa"]);
        assert!(f("The").is_empty() && f("was").is_empty() && f("A").is_empty() && f("12").is_empty());
    }

    #[test]
    fn all_marks_every_o_word_and_entity_like_only_look_alikes() {
        let mut pool = vec![
            s(&["GTN", "and", "ASA", "caused", "hepatitis"], &["O", "O", "B-C", "O", "B-D"]),
            s(&["NO", "caused", "colitis", "in", "rats"], &["B-C", "O", "O", "O", "O"]),
        ];
        let mut all = pool.clone();
        assert_eq!(UnknownRule::All.mark(&mut all), 7);
        assert_eq!(all[1].unknown, [1, 2, 3, 4]);
        let rule = UnknownRule::EntityLike { suffix: 4, min_share: 0.5, min_count: 1 };
        assert_eq!(rule.mark(&mut pool), 2);
        // GTN has the shape of matched ASA and NO; colitis the suffix of matched hepatitis.
        assert_eq!((pool[0].unknown.as_slice(), pool[1].unknown.as_slice()), (&[0][..], &[2][..]));
        assert!(UnknownRule::EntityLike { suffix: 1, min_share: 0.3, min_count: 5 }.check().is_err());
    }
}
