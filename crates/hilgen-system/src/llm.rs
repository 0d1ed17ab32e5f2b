//! The LLM as a zero-shot tagger, as a system (`llm.json`: client settings without secrets,
//! the annotation format, the prompt templates and the entity types).

use crate::{Result, SystemError, Tag};
use hilgen_corpus::Sentence;
use hilgen_llm::config::Annotation;
use hilgen_llm::generate::Generator;
use hilgen_llm::parse::Labels;
use hilgen_llm::prompts::Prompts;
use hilgen_llm::{LlmClient, LlmConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What `llm.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// The client (endpoint, model, sampling; the API key is read from the environment
    /// variable it names, never stored).
    pub config: LlmConfig,
    /// How the model marks entities.
    pub annotation: Annotation,
    /// Prompt templates by file name (the defaults for those not here).
    pub templates: BTreeMap<String, String>,
    /// The entity types it is asked for.
    pub types: Vec<String>,
}

/// The LLM tagger.
pub struct LlmSystem {
    settings: LlmSettings,
}

impl LlmSystem {
    /// Reads `llm.json`.
    pub fn load(path: &Path) -> Result<LlmSystem> {
        let text = std::fs::read_to_string(path).map_err(|e| SystemError::io(path, e))?;
        let settings: LlmSettings = serde_json::from_str(&text)
            .map_err(|e| SystemError::folder(path, format!("line {}: not LLM tagger settings: {e}", e.line())))?;
        Ok(LlmSystem { settings })
    }

    /// The tagger of these settings.
    pub fn new(settings: LlmSettings) -> LlmSystem {
        LlmSystem { settings }
    }
}

impl Tag for LlmSystem {
    fn describe(&self) -> String {
        format!("LLM zero-shot tagger ({})", self.settings.config.model)
    }

    fn types(&self) -> Vec<String> {
        self.settings.types.clone()
    }

    fn tag(&self, sentences: &[Sentence]) -> Result<Vec<Sentence>> {
        let client = LlmClient::new(self.settings.config.clone())?;
        let prompts = Prompts::from_texts(self.settings.templates.clone())?;
        let generator = Generator::with_prompts(
            &client,
            Labels::new(self.settings.types.iter().cloned()),
            self.settings.annotation,
            prompts,
        );
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| SystemError::io("tokio runtime", e))?;
        let (mut tagged, _) = rt.block_on(generator.tag(sentences))?;
        for (t, s) in tagged.iter_mut().zip(sentences) {
            t.doc_id = s.doc_id.clone();
        }
        Ok(tagged)
    }
}
