//! The dictionary as a system: a saved dictionary (`dictionary.json`) rebuilt over the
//! knowledge index it was made with (refused when the index's sha256 differs).

use crate::spec::Pinned;
use crate::{Result, SystemError, Tag};
use hilgen_corpus::Sentence;
use hilgen_dictionary::{Dictionary, SavedDictionary};
use std::path::Path;

/// A dictionary ready to tag.
pub struct DictionarySystem {
    /// The dictionary.
    pub dictionary: Dictionary,
}

impl DictionarySystem {
    /// Loads `dictionary.json` and the pinned index (paths relative to `folder`).
    pub fn load(folder: &Path, dictionary: &Path, kb: &Pinned) -> Result<DictionarySystem> {
        let saved = SavedDictionary::read(&folder.join(dictionary))?;
        let index = folder.join(&kb.file);
        let found = crate::sha256_file(&index)?;
        if found != kb.sha256 {
            return Err(SystemError::folder(
                &index,
                format!(
                    "this knowledge index is not the one the dictionary was made with (sha256 {found}, expected {})",
                    kb.sha256
                ),
            ));
        }
        let kb = hilgen_kb::Kb::open(&index)?;
        Ok(DictionarySystem { dictionary: saved.build(&kb)? })
    }
}

impl Tag for DictionarySystem {
    fn describe(&self) -> String {
        format!("dictionary ({} names)", self.dictionary.len())
    }

    fn types(&self) -> Vec<String> {
        self.dictionary.types.labels()
    }

    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        Ok(self.dictionary.tag(sentences))
    }
}
