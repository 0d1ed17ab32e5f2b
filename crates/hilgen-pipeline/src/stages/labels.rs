//! A teacher's labels: what the teacher stage writes and self-training reads.

use crate::error::PipelineError;
use crate::files::FileRef;
use crate::Result;
use hilgen_augment::Scored;
use serde::{Deserialize, Serialize};

/// The teacher's labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherOutput {
    /// Which system teaches.
    pub system: String,
    /// Its dev F1.
    pub dev_f1: f64,
    /// `teacher.pool.jsonl`: the pool's sentences with tags and probabilities.
    pub pool: FileRef,
    /// `teacher.dev.jsonl`: the dev split's.
    pub dev: FileRef,
}

/// Reads a file of scored sentences.
pub fn read_scored(path: &std::path::Path) -> Result<Vec<Scored>> {
    let text = std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))?;
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| PipelineError::Invalid(format!("{}: {e}", path.display()))))
        .collect()
}
