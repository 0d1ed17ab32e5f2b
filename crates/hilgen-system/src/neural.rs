//! A model folder (a fine-tuned tagger and, beside it, DANN's support set) as a system: one pass
//! of the encoder serves both heads.

use crate::{Result, SystemError, Tag};
use hilgen_corpus::Sentence;
use hilgen_models::{Dann, Features, Precision, Prediction, Tagger};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Which head of a model folder tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Head {
    /// The fine-tuned tagger.
    Tagger,
    /// DANN (nearest neighbours over the tagger's emissions or hidden states).
    Dann,
}

impl Head {
    /// `tagger` or `dann`.
    pub fn name(self) -> &'static str {
        match self {
            Head::Tagger => "tagger",
            Head::Dann => "dann",
        }
    }
}

/// How a model folder is run (what does not change its tags, or changes them little).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Where to run.
    pub device: Option<hilgen_models::DeviceChoice>,
    /// Windows per batch (default: the model's own).
    pub batch_size: Option<usize>,
    /// The encoder's number format (default: the model's own).
    pub precision: Option<Precision>,
    /// Pad each batch's length to a multiple of this.
    pub pad_to_multiple: Option<usize>,
}

/// A loaded model folder: the tagger and, when the folder has one, DANN.
pub struct Neural {
    folder: PathBuf,
    tagger: Tagger,
    dann: Option<Dann>,
}

impl Neural {
    /// Loads the tagger of `folder` and its DANN support set if there is one (checked to fit
    /// the tagger).
    pub fn load(folder: &Path, options: &RunOptions) -> Result<Neural> {
        let device = options.device.unwrap_or(hilgen_models::DeviceChoice::Cpu).resolve()?;
        let mut tagger = Tagger::load(folder, device)?;
        let mut config = tagger.config().clone();
        if let Some(b) = options.batch_size {
            if b == 0 {
                return Err(SystemError::Invalid("the batch size must be at least 1".into()));
            }
            // Prediction runs batches of twice the training batch size.
            config.batch_size = b.div_ceil(2);
        }
        if options.pad_to_multiple.is_some() {
            config.pad_to_multiple = options.pad_to_multiple;
        }
        tagger.set_config(config)?;
        if let Some(p) = options.precision {
            tagger.set_precision(p);
        }
        let dann = match Dann::exists_in(folder) {
            true => {
                let d = Dann::load(folder)?;
                d.check_fits(&tagger).map_err(|e| SystemError::folder(folder, e.to_string()))?;
                Some(d)
            }
            false => None,
        };
        Ok(Neural { folder: folder.to_path_buf(), tagger, dann })
    }

    /// The folder it was loaded from.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The tagger.
    pub fn tagger(&self) -> &Tagger {
        &self.tagger
    }

    /// Whether the folder has DANN's support set.
    pub fn has_dann(&self) -> bool {
        self.dann.is_some()
    }

    /// Each head's predictions of `sentences`, from one pass of the encoder (DANN over hidden
    /// states takes a second).
    pub fn predict(&self, sentences: &[Sentence], heads: &[Head]) -> Result<Vec<Vec<Prediction>>> {
        let emissions = self.tagger.word_features(sentences, Features::Emissions)?;
        heads
            .iter()
            .map(|h| match h {
                Head::Tagger => Ok(self.tagger.decode_emissions(&emissions)?),
                Head::Dann => {
                    let d = self.dann.as_ref().ok_or_else(|| {
                        SystemError::folder(
                            &self.folder,
                            "has no DANN support set (dann.json and dann.safetensors); tag with its tagger",
                        )
                    })?;
                    Ok(match d.config.features {
                        Features::Emissions => d.predict_features(&emissions),
                        Features::Hidden => d.predict(&self.tagger, sentences)?,
                    })
                }
            })
            .collect()
    }
}

/// One head of a loaded model folder (folders are shared: an ensemble of a folder's tagger and
/// DANN runs its encoder once).
#[derive(Clone)]
pub struct Model {
    /// The folder.
    pub neural: Rc<Neural>,
    /// The head.
    pub head: Head,
    /// The tagger's entities only where every word's tag has at least this probability.
    pub min_confidence: Option<f32>,
    /// The tagger's entities without its one-word symbols ("RB1"; see
    /// [`hilgen_corpus::shape::is_symbol`]).
    pub skip_symbols: bool,
}

impl Model {
    /// This member's entities from its head's prediction over `tokens`: a tagger with
    /// `min_confidence` keeps only its sure ones, with `skip_symbols` none shaped like a symbol
    /// (one place for `Tag::tag` and an ensemble's shared pass).
    pub fn entities(&self, predicted: &Prediction, tokens: &[String]) -> Prediction {
        match self.head {
            Head::Tagger => predicted.filtered(self.min_confidence, self.skip_symbols, tokens),
            Head::Dann => predicted.clone(),
        }
    }
}

impl Tag for Model {
    fn describe(&self) -> String {
        match (self.head, self.min_confidence) {
            (Head::Tagger, Some(p)) => format!(
                "tagger of {} (entities with p >= {p}{})",
                self.neural.folder.display(),
                if self.skip_symbols { ", no one-word symbols" } else { "" }
            ),
            _ => format!("{} of {}", self.head.name(), self.neural.folder.display()),
        }
    }

    fn types(&self) -> Vec<String> {
        crate::types_of_labels(self.neural.tagger.labels())
    }

    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        let predicted = self.neural.predict(sentences, &[self.head])?.remove(0);
        Ok(predicted.iter().zip(sentences).map(|(p, s)| self.entities(p, &s.tokens).to_sentence(s)).collect())
    }
}
