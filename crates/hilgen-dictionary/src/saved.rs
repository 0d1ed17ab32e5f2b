//! A tuned dictionary as data (`dictionary.json`): its entity types (learned from the shots) and
//! the options chosen for it. The names themselves are those of the knowledge index it is built
//! over, so a saved dictionary is rebuilt with [`SavedDictionary::build`] over that index.

use crate::{Dictionary, DictionaryError, Result, Selection, TypeMap};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What `dictionary.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedDictionary {
    /// Label votes per concept type (learned from the shots).
    pub types: TypeMap,
    /// The options and how they were chosen.
    pub selection: Selection,
}

impl SavedDictionary {
    /// The dictionary again, over `kb`.
    pub fn build(&self, kb: &hilgen_kb::Kb) -> Result<Dictionary> {
        Dictionary::build(kb, &self.types, self.selection.config.clone())
    }

    /// Reads a `dictionary.json`; errors name the file and what was wrong in it.
    pub fn read(path: &Path) -> Result<SavedDictionary> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DictionaryError::Invalid(format!("{}: cannot read: {e}", path.display())))?;
        let saved: SavedDictionary = serde_json::from_str(&text).map_err(|e| {
            DictionaryError::Invalid(format!(
                "{}: line {}: not a saved dictionary (entity types and options): {e}",
                path.display(),
                e.line()
            ))
        })?;
        saved.selection.config.check().map_err(|e| DictionaryError::Invalid(format!("{}: {e}", path.display())))?;
        Ok(saved)
    }
}
