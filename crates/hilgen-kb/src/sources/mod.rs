//! Readers for the knowledge sources, all loading into one [`crate::Graph`].

pub mod ctd;
pub mod mesh;
pub mod obo;
pub mod rrf;

use crate::error::{KbError, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Read;
use std::path::Path;

/// Reads a whole file (gunzipping `.gz`) as UTF-8; a bad byte is reported with its line.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let f = std::fs::File::open(path).map_err(|e| KbError::io(path, e))?;
    let total = f.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(total, path);
    let mut reader: Box<dyn Read> = Box::new(bar.wrap_read(f));
    if path.extension().is_some_and(|e| e == "gz") {
        reader = Box::new(flate2::read::GzDecoder::new(reader));
    }
    let mut bytes = Vec::with_capacity(total as usize);
    reader.read_to_end(&mut bytes).map_err(|e| KbError::io(path, e))?;
    bar.finish_and_clear();
    let mut text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        KbError::parse(path, line, format!("invalid UTF-8 at byte {at}; expected UTF-8 text"))
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok(text)
}

/// A byte-progress bar for reading `path` (drawn only on a terminal).
pub(crate) fn progress(total: u64, path: &Path) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    bar
}
