//! Loading a registry dataset as a [`Corpus`]: IOB splits aligned with their PubTator
//! documents when the registry has both, or PubTator converted to IOB otherwise.
//!
//! ```no_run
//! use hilgen_corpus::{dataset, fetch::Fetcher};
//! let loaded = dataset::load("bc5cdr", &Fetcher::from_env()).unwrap();
//! let train = loaded.corpus.split("train").unwrap();
//! println!("{} sentences; {:?}", train.len(), loaded.align["train"]);
//! ```

use crate::align::{align, AlignReport};
use crate::conll;
use crate::convert::{pubtator_to_iob, ConvertOptions};
use crate::error::{CorpusError, Result};
use crate::fetch::Fetcher;
use crate::io_util::{decode_utf8, read_text};
use crate::pubtator;
use crate::registry::{self, FileFormat};
use crate::sentence::Corpus;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Its splits.
    pub corpus: Corpus,
    /// Alignment reports per split (IOB datasets with PubTator documents).
    pub align: BTreeMap<String, AlignReport>,
}

/// Loads a registry dataset through `fetcher` (see the module docs).
pub fn load(name: &str, fetcher: &Fetcher) -> Result<Loaded> {
    let spec = registry::get(name)?;
    let paths = fetcher.fetch(&spec)?;
    let mut corpus = Corpus::new();
    let mut reports = BTreeMap::new();
    let has_iob = spec.files.iter().any(|f| f.format == FileFormat::IobTsv);
    let mut docs_by_split = BTreeMap::new();
    let mut pmid_lists: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (file, path) in spec.files.iter().zip(&paths) {
        match file.format {
            FileFormat::IobTsv => corpus.insert(file.split, conll::read_path(path, &conll::ConllFormat::default())?),
            FileFormat::PubTator => {
                docs_by_split.insert(file.split, pubtator::read_path(path)?.0);
            }
            FileFormat::PubTatorGz => {
                let mut bytes = Vec::new();
                let f = std::fs::File::open(path).map_err(|e| CorpusError::io(path, e))?;
                flate2::read::MultiGzDecoder::new(f).read_to_end(&mut bytes).map_err(|e| CorpusError::io(path, e))?;
                docs_by_split.insert(file.split, pubtator::read_str(&decode_utf8(bytes, path)?, path)?.0);
            }
            FileFormat::PmidList => {
                pmid_lists.insert(
                    file.split,
                    read_text(path)?.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
                );
            }
        }
    }
    for (split, docs) in docs_by_split {
        if has_iob {
            let sentences = corpus.splits.get_mut(split).ok_or_else(|| {
                CorpusError::Invalid(format!("dataset `{name}` has PubTator but no IOB file for split `{split}`"))
            })?;
            reports.insert(split.to_string(), align(sentences, &docs)?);
        } else if pmid_lists.is_empty() {
            corpus.insert(split, pubtator_to_iob(&docs, &ConvertOptions::default()).0);
        } else {
            for (list_split, pmids) in &pmid_lists {
                let part: Vec<_> = docs.iter().filter(|d| pmids.contains(&d.pmid)).cloned().collect();
                corpus.insert(*list_split, pubtator_to_iob(&part, &ConvertOptions::default()).0);
            }
        }
    }
    Ok(Loaded { corpus, align: reports })
}
