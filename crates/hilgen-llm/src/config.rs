//! Client configuration: a TOML file, overridden by `HILGEN_LLM_*` environment variables.
//!
//! The API key itself is never part of the configuration: the configuration names the
//! environment variable that holds it (`api_key_env`, default `OPENAI_API_KEY`), so the key is
//! never logged, written to the cache, or copied into a report.
//!
//! ```
//! let cfg: hilgen_llm::LlmConfig = toml::from_str(r#"
//!     base_url = "http://127.0.0.1:8080/v1"
//!     model = "smollm2"
//!     temperature = 0.7
//!     max_concurrent = 2
//! "#).unwrap();
//! assert_eq!(cfg.max_retries, 6);
//! ```

use crate::error::{LlmError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which kind of endpoint the base URL is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI or any OpenAI-compatible server (vLLM, llama.cpp's llama-server, Ollama).
    #[default]
    Openai,
    /// Azure OpenAI: `base_url` is the resource (`https://NAME.openai.azure.com`), and
    /// [`AzureSettings`] give the deployment and API version; the key goes in the `api-key` header.
    Azure,
}

/// Azure OpenAI settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureSettings {
    /// The deployment name (Azure routes by deployment, not by model).
    pub deployment: String,
    /// The `api-version` query parameter.
    pub api_version: String,
}

impl Default for AzureSettings {
    fn default() -> Self {
        AzureSettings { deployment: String::new(), api_version: "2024-10-21".into() }
    }
}

/// How the model marks entities, in HILGEN's second turn and as a zero-shot tagger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Annotation {
    /// The model lists each sentence's entities as `{text, type}`; the IOB2 tags are then
    /// made by finding those strings in the sentence (an entity not found is rejected). Small
    /// models manage this far better than tag lists.
    #[default]
    Entities,
    /// The model writes tokens and one IOB2 tag per token (HILGEN's literal "convert to IOB";
    /// for the tagger, one tag per given token).
    Tokens,
}

/// When to ask for structured output (`response_format` with a JSON schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructuredOutput {
    /// Ask for it; if the server rejects the request because of `response_format`, stop asking
    /// and parse text for the rest of the run.
    #[default]
    Auto,
    /// Always ask for it (a server that refuses is an error).
    Always,
    /// Never ask for it; parse text.
    Never,
}

/// Price of one model, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Dollars per million prompt tokens.
    pub prompt_per_million: f64,
    /// Dollars per million completion tokens.
    pub completion_per_million: f64,
}

/// Everything the client needs; see the module docs for the file format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// OpenAI-compatible or Azure.
    pub provider: Provider,
    /// API base, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Model name sent with each request (and part of the cache key).
    pub model: String,
    /// Environment variable holding the API key (empty or unset: no key, for local servers).
    pub api_key_env: String,
    /// Azure settings, used when `provider = "azure"`.
    pub azure: AzureSettings,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus sampling.
    pub top_p: f32,
    /// Most completion tokens per request.
    pub max_tokens: u32,
    /// Sampling seed sent to the server (servers that honour it give repeatable outputs).
    pub seed: Option<i64>,
    /// Per-request timeout in seconds.
    pub timeout_s: f64,
    /// Most requests in flight at once.
    pub max_concurrent: usize,
    /// Most requests started per minute (none: unlimited).
    pub requests_per_minute: Option<u32>,
    /// Most tokens (prompt estimate + `max_tokens`) per minute (none: unlimited).
    pub tokens_per_minute: Option<u32>,
    /// Retries after a 429, a 5xx, a timeout or a refused connection.
    pub max_retries: u32,
    /// First backoff delay in milliseconds (doubles per retry, with full jitter).
    pub backoff_initial_ms: u64,
    /// Longest backoff delay, and the longest `Retry-After` honoured, in milliseconds.
    pub backoff_max_ms: u64,
    /// Response cache directory.
    pub cache_dir: PathBuf,
    /// Answer only from the cache; a miss is an error.
    pub offline: bool,
    /// Structured output policy (it decides the request body, so it belongs to the client).
    pub structured_output: StructuredOutput,
    /// Prices per model name, for the cost estimate.
    pub prices: BTreeMap<String, Price>,
    /// Show a progress bar for long generations.
    pub progress: bool,
}

impl Default for LlmConfig {
    fn default() -> Self {
        let mut prices = BTreeMap::new();
        // Public list prices (USD per 1M tokens) at the time of writing; override in the file.
        for (m, p, c) in [("gpt-3.5-turbo", 0.5, 1.5), ("gpt-4o-mini", 0.15, 0.6), ("gpt-4o", 2.5, 10.0)] {
            prices.insert(m.to_string(), Price { prompt_per_million: p, completion_per_million: c });
        }
        LlmConfig {
            provider: Provider::Openai,
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-3.5-turbo".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            azure: AzureSettings::default(),
            temperature: 1.0,
            top_p: 1.0,
            max_tokens: 1024,
            seed: None,
            timeout_s: 120.0,
            max_concurrent: 4,
            requests_per_minute: None,
            tokens_per_minute: None,
            max_retries: 6,
            backoff_initial_ms: 500,
            backoff_max_ms: 60_000,
            cache_dir: PathBuf::from(".hilgen-cache/llm"),
            offline: false,
            structured_output: StructuredOutput::Auto,
            prices,
            progress: true,
        }
    }
}

/// What the generation tasks do with the client: how the model annotates, and which prompt
/// templates it gets. Kept apart from [`LlmConfig`] (the transport), so that a library user can
/// drive one client with several generation set-ups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GenerationOptions {
    /// How the model annotates entities (HILGEN's IOB turn, the zero-shot tagger).
    pub annotation: Annotation,
    /// A folder of prompt templates that replace the shipped ones by file name (relative to the
    /// configuration file's folder when read from a file).
    pub prompts_dir: Option<PathBuf>,
}

/// An LLM configuration file: the client's settings at the top level and the generation
/// options in a `[generation]` table (`annotation` and `prompts_dir` are also accepted at the
/// top level, where earlier versions had them).
///
/// ```
/// let s = hilgen_llm::config::LlmSettings::from_toml(r#"
///     model = "local"
///     base_url = "http://127.0.0.1:8080/v1"
///     [generation]
///     annotation = "tokens"
/// "#, "llm.toml".as_ref()).unwrap();
/// assert_eq!(s.client.model, "local");
/// assert_eq!(s.generation.annotation, hilgen_llm::config::Annotation::Tokens);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LlmSettings {
    /// The client (transport, sampling, cache, limits).
    pub client: LlmConfig,
    /// The generation options.
    pub generation: GenerationOptions,
}

impl LlmSettings {
    /// Parses a configuration file's text; `path` names it in errors and anchors a relative
    /// `prompts_dir`. No environment overrides (see [`LlmSettings::load`]).
    pub fn from_toml(text: &str, path: &Path) -> Result<LlmSettings> {
        let origin = path.display().to_string();
        let mut table: toml::Table = toml::from_str(text).map_err(|e| LlmError::config(&origin, e.to_string()))?;
        let mut generation = match table.remove("generation") {
            Some(toml::Value::Table(t)) => t,
            Some(other) => {
                return Err(LlmError::config(
                    &origin,
                    format!("`generation` must be a table, found {}", other.type_str()),
                ))
            }
            None => toml::Table::new(),
        };
        for key in ["annotation", "prompts_dir"] {
            if let Some(v) = table.remove(key) {
                if generation.insert(key.to_string(), v).is_some() {
                    return Err(LlmError::config(
                        &origin,
                        format!("`{key}` is given twice (top level and [generation])"),
                    ));
                }
            }
        }
        let client: LlmConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| LlmError::config(&origin, e.to_string()))?;
        let mut generation: GenerationOptions = toml::Value::Table(generation)
            .try_into()
            .map_err(|e: toml::de::Error| LlmError::config(&origin, format!("[generation]: {e}")))?;
        if let Some(d) = generation.prompts_dir.as_mut() {
            if d.is_relative() {
                *d = path.parent().unwrap_or(Path::new(".")).join(&*d);
            }
        }
        client.validate(&origin)?;
        Ok(LlmSettings { client, generation })
    }

    /// Reads a configuration file.
    pub fn from_file(path: &Path) -> Result<LlmSettings> {
        let text = std::fs::read_to_string(path).map_err(|e| LlmError::io(path, e))?;
        LlmSettings::from_toml(&text, path)
    }

    /// The file (when given, else the defaults) with the `HILGEN_LLM_*` overrides applied.
    pub fn load(path: Option<&Path>) -> Result<LlmSettings> {
        let mut s = match path {
            Some(p) => LlmSettings::from_file(p)?,
            None => LlmSettings::default(),
        };
        s.client.apply_env(|k| std::env::var(k).ok())?;
        Ok(s)
    }
}

/// The environment variables read by [`LlmConfig::apply_env`], with the field each sets.
pub const ENV_OVERRIDES: [(&str, &str); 9] = [
    ("HILGEN_LLM_BASE_URL", "base_url"),
    ("HILGEN_LLM_MODEL", "model"),
    ("HILGEN_LLM_API_KEY_ENV", "api_key_env"),
    ("HILGEN_LLM_CACHE", "cache_dir"),
    ("HILGEN_LLM_OFFLINE", "offline"),
    ("HILGEN_LLM_MAX_CONCURRENT", "max_concurrent"),
    ("HILGEN_LLM_TEMPERATURE", "temperature"),
    ("HILGEN_LLM_SEED", "seed"),
    ("HILGEN_LLM_TIMEOUT_S", "timeout_s"),
];

impl LlmConfig {
    /// The client settings of a configuration file (unknown keys are errors that name the
    /// key; the generation options are read and dropped: see [`LlmSettings`]).
    pub fn from_file(path: &Path) -> Result<LlmConfig> {
        Ok(LlmSettings::from_file(path)?.client)
    }

    /// The file's client settings (when given) with the environment overrides applied on top.
    pub fn load(path: Option<&Path>) -> Result<LlmConfig> {
        Ok(LlmSettings::load(path)?.client)
    }

    /// The settings that shape a request body and so what the model answers: provider, base
    /// URL, model, Azure deployment, sampling (temperature, top_p, max_tokens, seed) and the
    /// structured-output policy. Not the key's variable, cache, limits, retries or timeouts,
    /// which change how answers are fetched, not what they are. Stages hash this.
    pub fn request_fingerprint(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": self.provider,
            "base_url": self.base_url,
            "model": self.model,
            "azure_deployment": if self.provider == Provider::Azure { Some(&self.azure.deployment) } else { None },
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "structured_output": self.structured_output,
        })
    }

    /// Applies `HILGEN_LLM_*` overrides (see [`ENV_OVERRIDES`]) read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        fn num<T: std::str::FromStr>(var: &str, v: &str) -> Result<T> {
            v.trim().parse().map_err(|_| LlmError::config(var, format!("expected a number, found {v:?}")))
        }
        for (var, _) in ENV_OVERRIDES {
            let Some(v) = get(var) else { continue };
            match var {
                "HILGEN_LLM_BASE_URL" => self.base_url = v,
                "HILGEN_LLM_MODEL" => self.model = v,
                "HILGEN_LLM_API_KEY_ENV" => self.api_key_env = v,
                "HILGEN_LLM_CACHE" => self.cache_dir = PathBuf::from(v),
                "HILGEN_LLM_OFFLINE" => {
                    self.offline = match v.trim().to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" | "on" => true,
                        "0" | "false" | "no" | "off" | "" => false,
                        _ => return Err(LlmError::config(var, format!("expected 1/0/true/false, found {v:?}"))),
                    }
                }
                "HILGEN_LLM_MAX_CONCURRENT" => self.max_concurrent = num(var, &v)?,
                "HILGEN_LLM_TEMPERATURE" => self.temperature = num(var, &v)?,
                "HILGEN_LLM_SEED" => self.seed = Some(num(var, &v)?),
                "HILGEN_LLM_TIMEOUT_S" => self.timeout_s = num(var, &v)?,
                _ => unreachable!("every override is matched"),
            }
        }
        self.validate("environment")
    }

    /// Checks value ranges; `origin` names where the values came from.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let bad = |m: String| Err(LlmError::config(origin, m));
        if self.model.trim().is_empty() && self.provider == Provider::Openai {
            return bad("`model` is empty".into());
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return bad(format!("`base_url` must start with http:// or https://, found {:?}", self.base_url));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return bad(format!("`temperature` must be in 0..=2, found {}", self.temperature));
        }
        if !(0.0..=1.0).contains(&self.top_p) || self.top_p == 0.0 {
            return bad(format!("`top_p` must be in (0, 1], found {}", self.top_p));
        }
        if self.max_concurrent == 0 {
            return bad("`max_concurrent` must be at least 1".into());
        }
        if self.timeout_s <= 0.0 || !self.timeout_s.is_finite() {
            return bad(format!("`timeout_s` must be positive, found {}", self.timeout_s));
        }
        if self.max_tokens == 0 {
            return bad("`max_tokens` must be at least 1".into());
        }
        if self.provider == Provider::Azure && self.azure.deployment.is_empty() {
            return bad("provider = \"azure\" needs `azure.deployment`".into());
        }
        if self.requests_per_minute == Some(0) || self.tokens_per_minute == Some(0) {
            return bad("rate limits must be at least 1 (leave them out for no limit)".into());
        }
        Ok(())
    }

    /// The API key from `api_key_env`, if set and non-empty.
    pub fn api_key(&self) -> Option<String> {
        if self.api_key_env.is_empty() {
            return None;
        }
        std::env::var(&self.api_key_env).ok().filter(|k| !k.is_empty())
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_s)
    }

    /// The price of the configured model, when the table has it (exact name, then the longest
    /// table name the model starts with, so `gpt-4o-mini-2024-07-18` finds `gpt-4o-mini`).
    pub fn price(&self) -> Option<Price> {
        if let Some(p) = self.prices.get(&self.model) {
            return Some(*p);
        }
        self.prices
            .iter()
            .filter(|(name, _)| self.model.starts_with(name.as_str()))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, p)| *p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("llm.toml");
        std::fs::write(&p, "model = \"x\"\ntemprature = 0.5\n").unwrap();
        let e = LlmConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("llm.toml") && e.contains("temprature"), "{e}");
        std::fs::write(&p, "temperature = 3.5\n").unwrap();
        let e = LlmConfig::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("temperature") && e.contains("3.5"), "{e}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut cfg = LlmConfig::default();
        let env = |k: &str| match k {
            "HILGEN_LLM_MODEL" => Some("local".to_string()),
            "HILGEN_LLM_OFFLINE" => Some("true".to_string()),
            "HILGEN_LLM_SEED" => Some("7".to_string()),
            _ => None,
        };
        cfg.apply_env(env).unwrap();
        assert_eq!((cfg.model.as_str(), cfg.offline, cfg.seed), ("local", true, Some(7)));
        let e = cfg.apply_env(|k| (k == "HILGEN_LLM_MAX_CONCURRENT").then(|| "many".into())).unwrap_err();
        assert!(e.to_string().contains("HILGEN_LLM_MAX_CONCURRENT"));
    }

    #[test]
    fn generation_options_apart_from_the_client() {
        let path = Path::new("/etc/exp/llm.toml");
        let s = LlmSettings::from_toml("model = \"m\"\nannotation = \"tokens\"\nprompts_dir = \"p\"\n", path).unwrap();
        assert_eq!(s.generation.annotation, Annotation::Tokens);
        assert_eq!(s.generation.prompts_dir.as_deref(), Some(Path::new("/etc/exp/p")), "relative to the file");
        let e = LlmSettings::from_toml("[generation]\nanotation = \"tokens\"\n", path).unwrap_err().to_string();
        assert!(e.contains("anotation") && e.contains("llm.toml"), "{e}");
        let e = LlmSettings::from_toml("annotation = \"tokens\"\n[generation]\nannotation = \"entities\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("twice"), "{e}");
        // The fingerprint follows what shapes requests, not where answers are kept.
        let a = LlmConfig::default();
        let b = LlmConfig { cache_dir: "elsewhere".into(), max_concurrent: 9, ..LlmConfig::default() };
        assert_eq!(a.request_fingerprint(), b.request_fingerprint());
        let c = LlmConfig { model: "other".into(), ..LlmConfig::default() };
        assert_ne!(a.request_fingerprint(), c.request_fingerprint());
    }

    #[test]
    fn price_lookup_by_prefix() {
        let cfg = LlmConfig { model: "gpt-4o-mini-2024-07-18".into(), ..LlmConfig::default() };
        assert_eq!(cfg.price().unwrap().prompt_per_million, 0.15);
        let cfg = LlmConfig { model: "smollm2".into(), ..LlmConfig::default() };
        assert!(cfg.price().is_none());
    }
}
