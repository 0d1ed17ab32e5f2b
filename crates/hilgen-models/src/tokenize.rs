//! Sub-word tokenization of pre-tokenized sentences with the `tokenizers` crate, and windows
//! for sentences longer than the model's window.
//!
//! The tokenizer comes from `tokenizer.json` (its truncation and padding are switched off: we
//! handle both), or, for folders without one, from `vocab.txt` as a BERT WordPiece tokenizer
//! (lower-casing as `tokenizer_config.json`'s `do_lower_case` says, default on).
//!
//! The special tokens are the folder's own (`cls_token`, `sep_token`, `pad_token`, `unk_token`
//! of `tokenizer_config.json` or `special_tokens_map.json`: `<s>`, `</s>`, `<pad>` for RoBERTa
//! and MPNet), else BERT's `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`. A byte-level BPE tokenizer
//! (RoBERTa) reads each word with a leading space, as transformers requires for words given
//! one by one (`add_prefix_space=True`).

use crate::error::{ModelError, Result};
use std::path::Path;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::Tokenizer;

/// The roles of the special tokens, in the order of [`WordEncoder::special_tokens`].
const ROLES: [(&str, &str, &str); 4] = [
    ("cls_token", "[CLS]", "<s>"),
    ("sep_token", "[SEP]", "</s>"),
    ("pad_token", "[PAD]", "<pad>"),
    ("unk_token", "[UNK]", "<unk>"),
];

/// Sub-word encoder of words.
pub struct WordEncoder {
    tokenizer: Tokenizer,
    /// `[CLS]` id.
    pub cls: i64,
    /// `[SEP]` id.
    pub sep: i64,
    /// `[PAD]` id.
    pub pad: i64,
    /// `[UNK]` id.
    pub unk: i64,
    /// The texts of the four special tokens (cls, sep, pad, unk).
    names: [String; 4],
    /// The mask token, if any.
    mask: Option<String>,
}

impl WordEncoder {
    /// Loads the tokenizer of a model folder (`tokenizer.json`, else `vocab.txt`).
    pub fn from_folder(dir: &Path) -> Result<WordEncoder> {
        let json = dir.join("tokenizer.json");
        let vocab = dir.join("vocab.txt");
        let mut tokenizer = if json.exists() {
            crate::limits::check_file(&json, crate::limits::TOKENIZER_BYTES)?;
            let bytes = std::fs::read(&json).map_err(|e| ModelError::Io { path: json.clone(), cause: e })?;
            // Checked as JSON first: tokenizers 0.22 panics (an `expect` in its decoder
            // deserializer) on some malformed files instead of returning an error.
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                return Err(ModelError::folder(&json, format!("not valid JSON: {e}")));
            }
            std::panic::catch_unwind(|| Tokenizer::from_bytes(&bytes))
                .map_err(|_| ModelError::folder(&json, "cannot load the tokenizer (the tokenizers library panicked)"))?
                .map_err(|e| ModelError::folder(&json, format!("cannot load the tokenizer: {e}")))?
        } else if vocab.exists() {
            crate::limits::check_file(&vocab, crate::limits::TOKENIZER_BYTES)?;
            let lower = std::fs::read_to_string(dir.join("tokenizer_config.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["do_lower_case"].as_bool())
                .unwrap_or(true);
            let wp = WordPiece::from_file(&vocab.to_string_lossy())
                .unk_token("[UNK]".into())
                .build()
                .map_err(|e| ModelError::folder(&vocab, format!("cannot load the vocabulary: {e}")))?;
            let mut t = Tokenizer::new(wp);
            t.with_normalizer(Some(BertNormalizer::new(true, true, None, lower)));
            t.with_pre_tokenizer(Some(BertPreTokenizer));
            t
        } else {
            return Err(ModelError::folder(dir, "no tokenizer.json or vocab.txt"));
        };
        tokenizer.with_truncation(None).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        if let Some(PreTokenizerWrapper::ByteLevel(b)) = tokenizer.get_pre_tokenizer() {
            let b = b.add_prefix_space(true);
            tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(b)));
        }
        let declarations = declarations(dir);
        let declared = ROLES.map(|(role, _, _)| declared_token(&declarations, role));
        let mut names: [String; 4] = Default::default();
        let mut ids = [0i64; 4];
        for (i, (role, bert, bpe)) in ROLES.iter().enumerate() {
            let candidates: Vec<&str> = match &declared[i] {
                Some(t) => vec![t.as_str()],
                None => vec![bert, bpe],
            };
            let found = candidates.iter().find_map(|t| tokenizer.token_to_id(t).map(|id| (t.to_string(), id)));
            let (name, id) = found.ok_or_else(|| {
                ModelError::folder(dir, format!("the vocabulary has no {role} ({})", candidates.join(" or ")))
            })?;
            names[i] = name;
            ids[i] = i64::from(id);
        }
        let mask = declared_token(&declarations, "mask_token")
            .into_iter()
            .chain(["[MASK]".to_string(), "<mask>".to_string()])
            .find(|t| tokenizer.token_to_id(t).is_some());
        Ok(WordEncoder { cls: ids[0], sep: ids[1], pad: ids[2], unk: ids[3], names, mask, tokenizer })
    }

    /// The texts of the special tokens: (cls, sep, pad, unk).
    pub fn special_tokens(&self) -> [&str; 4] {
        [&self.names[0], &self.names[1], &self.names[2], &self.names[3]]
    }

    /// The mask token, where the folder declares one or the vocabulary has `[MASK]` or
    /// `<mask>` (written to an exported `tokenizer_config.json` for fill-mask use).
    pub fn mask_token(&self) -> Option<&str> {
        self.mask.as_deref()
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// The largest token id the tokenizer can produce (added tokens included).
    pub fn max_id(&self) -> usize {
        self.tokenizer.get_vocab(true).values().copied().max().unwrap_or(0) as usize
    }

    /// Sub-word ids of each word (a word that yields none gets `[UNK]`).
    pub fn encode_words<S: AsRef<str>>(&self, words: &[S]) -> Result<Vec<Vec<i64>>> {
        let refs: Vec<&str> = words.iter().map(AsRef::as_ref).collect();
        let enc = self.tokenizer.encode(refs.as_slice(), false).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        let mut out = vec![Vec::new(); words.len()];
        for (id, w) in enc.get_ids().iter().zip(enc.get_word_ids()) {
            if let Some(w) = w {
                out[*w as usize].push(i64::from(*id));
            }
        }
        for pieces in &mut out {
            if pieces.is_empty() {
                pieces.push(self.unk);
            }
        }
        Ok(out)
    }

    /// Saves the tokenizer as `tokenizer.json`.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.tokenizer.save(path, false).map_err(|e| ModelError::Tokenizer(e.to_string()))
    }
}

/// The special-token declarations of a folder: its `tokenizer_config.json`, then its
/// `special_tokens_map.json` (those present and parsable), read once.
fn declarations(dir: &Path) -> Vec<serde_json::Value> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).ok().and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    };
    ["tokenizer_config.json", "special_tokens_map.json"].iter().filter_map(|n| read(n)).collect()
}

/// The token the declarations give one role (`cls_token`, `mask_token`, ...), if any; a token
/// is a string or an object with `content`.
fn declared_token(declarations: &[serde_json::Value], role: &str) -> Option<String> {
    declarations.iter().find_map(|v| {
        let t = &v[role];
        t.as_str().or_else(|| t["content"].as_str()).map(str::to_string)
    })
}

/// One model input: `[CLS] pieces [SEP]` covering some words, of which it owns a contiguous
/// range (the words whose predictions come from this window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Token ids including `[CLS]` and `[SEP]`.
    pub ids: Vec<i64>,
    /// For each owned word: (word index in the sentence, position of its first sub-word).
    pub owned: Vec<(usize, usize)>,
}

/// Splits a sentence's words (as sub-word pieces) into windows of at most `max_len` tokens
/// (special tokens included). Consecutive windows overlap by about a quarter of a window so
/// that every word is predicted with context on both sides; every word is owned by exactly one
/// window, so no word is ever dropped. A single word longer than a window keeps its first
/// pieces.
pub fn windows(pieces: &[Vec<i64>], max_len: usize, cls: i64, sep: i64) -> Vec<Window> {
    let cap = max_len.saturating_sub(2).max(1);
    let context = cap / 4;
    let n = pieces.len();
    let mut out = Vec::new();
    let (mut start, mut owned_start) = (0usize, 0usize);
    while owned_start < n {
        let mut end = start;
        let mut len = 0;
        while end < n && len + pieces[end].len() <= cap {
            len += pieces[end].len();
            end += 1;
        }
        if end <= owned_start {
            if start < owned_start {
                // The word to own does not fit after the left context: drop the context.
                start = owned_start;
                continue;
            }
            // A single word longer than a window: it goes alone, truncated below.
            end = owned_start + 1;
        }
        let owned_end = if end == n {
            n
        } else {
            let mut e = end;
            let mut right = 0;
            while e > owned_start + 1 && right + pieces[e - 1].len() <= context {
                right += pieces[e - 1].len();
                e -= 1;
            }
            e
        };
        let mut ids = vec![cls];
        let mut owned = Vec::new();
        for (w, p) in pieces.iter().enumerate().take(end).skip(start) {
            if (owned_start..owned_end).contains(&w) {
                owned.push((w, ids.len()));
            }
            let room = (cap + 1).saturating_sub(ids.len());
            ids.extend(p.iter().take(room.max(1)));
        }
        ids.truncate(cap + 1);
        ids.push(sep);
        out.push(Window { ids, owned });
        owned_start = owned_end;
        // Left context for the next window: up to `context` pieces before it.
        start = owned_start;
        let mut left = 0;
        while start > 0 && left + pieces[start - 1].len() <= context {
            left += pieces[start - 1].len();
            start -= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A malformed tokenizer.json is an error naming it (tokenizers 0.22 itself panics on some).
    #[test]
    fn malformed_tokenizer_json_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("tokenizer.json");
        std::fs::write(&json, "{\"version\": \"1.0\", \"decoder\": {\"type\": \"WordPiece\", -\n").unwrap();
        let e = WordEncoder::from_folder(dir.path()).err().expect("refused").to_string();
        assert!(e.contains("tokenizer.json") && e.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn every_word_is_owned_once_with_context() {
        let pieces: Vec<Vec<i64>> = (0..40).map(|i| vec![100 + i; 1 + (i as usize % 3)]).collect();
        for max_len in [6, 10, 17, 64, 200] {
            let ws = windows(&pieces, max_len, 1, 2);
            let owned: Vec<usize> = ws.iter().flat_map(|w| w.owned.iter().map(|o| o.0)).collect();
            assert_eq!(owned, (0..40).collect::<Vec<_>>(), "max_len {max_len}");
            for w in &ws {
                assert!(w.ids.len() <= max_len.max(3), "{} > {max_len}", w.ids.len());
                assert_eq!((w.ids[0], *w.ids.last().unwrap()), (1, 2));
                for &(word, pos) in &w.owned {
                    assert_eq!(w.ids[pos], pieces[word][0]);
                }
            }
            if max_len >= 64 {
                assert!(!ws.is_empty());
            }
        }
        let long = vec![vec![7i64; 50]];
        let ws = windows(&long, 10, 1, 2);
        assert_eq!(ws.len(), 1);
        assert_eq!(ws[0].ids.len(), 10);
    }
}
