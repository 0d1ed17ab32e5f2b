//! The client: one chat completion at a time through the cache, the concurrency and rate
//! limits, and the retrying transport; or many, in order, with a progress bar.

use crate::accounting::{Accounting, Summary};
use crate::cache::{key_of, Entry, ResponseCache};
use crate::config::{LlmConfig, Provider, StructuredOutput};
use crate::error::{LlmError, Result};
use crate::transport::{RetryPolicy, RetryingHttp, TransportFailure};
use async_openai::config::{AzureConfig, Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
};
use async_openai::types::chat::{ResponseFormat, ResponseFormatJsonSchema};
use futures::StreamExt;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Who speaks a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The user's turn.
    User,
    /// The model's earlier turn (multi-turn prompts).
    Assistant,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Speaker.
    pub role: Role,
    /// Text.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: Role::System, content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: Role::User, content: content.into() }
    }
    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message { role: Role::Assistant, content: content.into() }
    }
    fn to_openai(&self) -> ChatCompletionRequestMessage {
        let c = self.content.clone();
        match self.role {
            Role::System => ChatCompletionRequestSystemMessage::from(c.as_str()).into(),
            Role::User => ChatCompletionRequestUserMessage::from(c.as_str()).into(),
            Role::Assistant => ChatCompletionRequestAssistantMessage::from(c.as_str()).into(),
        }
    }
}

/// A chat request: messages and, optionally, the JSON schema the answer should follow.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The conversation.
    pub messages: Vec<Message>,
    /// `(name, schema)` for structured output; the prompt must still describe the format,
    /// since servers without structured output get the same messages.
    pub schema: Option<(String, Value)>,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The text of the first choice.
    pub content: String,
    /// Whether the cache answered.
    pub from_cache: bool,
    /// The cache key of the request.
    pub key: String,
    /// Whether structured output was requested.
    pub structured: bool,
    /// The server's finish reason (`stop`, `length`, ...).
    pub finish_reason: Option<String>,
}

/// An OpenAI-compatible chat client with cache, limits, retries and accounting.
///
/// ```no_run
/// # async fn run() -> hilgen_llm::Result<()> {
/// use hilgen_llm::{ChatRequest, LlmClient, LlmConfig, Message};
/// let client = LlmClient::new(LlmConfig::load(Some("llm.toml".as_ref()))?)?;
/// let req = ChatRequest { messages: vec![Message::user("Name one analgesic.")], schema: None };
/// let answer = client.chat(&req).await?;
/// println!("{} ({})", answer.content, client.summary());
/// # Ok(()) }
/// ```
pub struct LlmClient {
    cfg: LlmConfig,
    openai: async_openai::Client<Box<dyn Config>>,
    cache: ResponseCache,
    stats: Arc<Accounting>,
    permits: Semaphore,
    rpm: Option<DefaultDirectRateLimiter>,
    tpm: Option<(DefaultDirectRateLimiter, u32)>,
    structured_ok: AtomicBool,
    collected: Option<std::sync::Mutex<Vec<(String, Value)>>>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient").field("base_url", &self.cfg.base_url).field("model", &self.cfg.model).finish()
    }
}

impl LlmClient {
    /// A client for `cfg` (validated again here).
    pub fn new(cfg: LlmConfig) -> Result<LlmClient> {
        cfg.validate("configuration")?;
        let key = cfg.api_key().unwrap_or_default();
        let config: Box<dyn Config> = match cfg.provider {
            Provider::Openai => Box::new(OpenAIConfig::new().with_api_base(&cfg.base_url).with_api_key(key)),
            Provider::Azure => Box::new(
                AzureConfig::new()
                    .with_api_base(&cfg.base_url)
                    .with_deployment_id(&cfg.azure.deployment)
                    .with_api_version(&cfg.azure.api_version)
                    .with_api_key(key),
            ),
        };
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout())
            .build()
            .map_err(|e| LlmError::config("http client", e.to_string()))?;
        let stats = Arc::new(Accounting::default());
        let policy = RetryPolicy {
            max_retries: cfg.max_retries,
            initial: std::time::Duration::from_millis(cfg.backoff_initial_ms),
            max: std::time::Duration::from_millis(cfg.backoff_max_ms),
        };
        let openai =
            async_openai::Client::with_config(config).with_http_service(RetryingHttp::new(http, policy, stats.clone()));
        // Evenly spaced, with a burst of one second's worth of requests (ten seconds' worth of tokens).
        let per_minute = |n: u32, burst_s: u32| {
            let period = std::time::Duration::from_secs_f64(60.0 / n as f64);
            let burst = NonZeroU32::new((n * burst_s).div_ceil(60).max(1)).expect("at least 1");
            Quota::with_period(period).expect("non-zero period").allow_burst(burst)
        };
        Ok(LlmClient {
            cache: ResponseCache::new(&cfg.cache_dir),
            permits: Semaphore::new(cfg.max_concurrent),
            rpm: cfg.requests_per_minute.map(|n| RateLimiter::direct(per_minute(n, 1))),
            tpm: cfg.tokens_per_minute.map(|n| (RateLimiter::direct(per_minute(n, 10)), (n * 10).div_ceil(60).max(1))),
            structured_ok: AtomicBool::new(cfg.structured_output != StructuredOutput::Never),
            collected: None,
            openai,
            stats,
            cfg,
        })
    }

    /// A client that sends nothing: every cache miss is recorded (for a Batch API export, see
    /// [`crate::batch`]) and answered with [`LlmError::OfflineMiss`].
    pub fn collecting(cfg: LlmConfig) -> Result<LlmClient> {
        let mut c = LlmClient::new(LlmConfig { offline: true, ..cfg })?;
        c.collected = Some(std::sync::Mutex::new(Vec::new()));
        Ok(c)
    }

    /// The requests recorded by a [`collecting`](Self::collecting) client, as `(key, body)`,
    /// without repeats, in first-seen order.
    pub fn take_collected(&self) -> Vec<(String, Value)> {
        let Some(m) = &self.collected else { return Vec::new() };
        let all = std::mem::take(&mut *m.lock().expect("collect lock"));
        let mut seen = std::collections::HashSet::new();
        all.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
    }

    /// The configuration.
    pub fn config(&self) -> &LlmConfig {
        &self.cfg
    }

    /// The response cache.
    pub fn cache(&self) -> &ResponseCache {
        &self.cache
    }

    /// The live counters (parsers add their rejections here).
    pub fn accounting(&self) -> &Accounting {
        &self.stats
    }

    /// A snapshot of the counters with the estimated cost.
    pub fn summary(&self) -> Summary {
        self.stats.summary(self.cfg.price())
    }

    /// The request body for `req`, with or without structured output; its [`key_of`] is the
    /// cache key. (`max_tokens` and `seed` are what OpenAI-compatible servers read, though
    /// OpenAI has deprecated them.)
    #[allow(deprecated)]
    pub fn request_body(&self, req: &ChatRequest, structured: bool) -> Value {
        let response_format = match (&req.schema, structured) {
            (Some((name, schema)), true) => Some(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    name: name.clone(),
                    schema: schema.clone(),
                    strict: Some(true),
                    description: None,
                },
            }),
            _ => None,
        };
        let body = CreateChatCompletionRequest {
            model: self.cfg.model.clone(),
            messages: req.messages.iter().map(Message::to_openai).collect(),
            temperature: Some(self.cfg.temperature),
            top_p: Some(self.cfg.top_p),
            max_tokens: Some(self.cfg.max_tokens),
            seed: self.cfg.seed,
            response_format,
            ..Default::default()
        };
        serde_json::to_value(&body).expect("chat requests serialize")
    }

    fn wants_structured(&self, req: &ChatRequest) -> bool {
        req.schema.is_some() && self.structured_ok.load(Relaxed)
    }

    /// Sends one chat request (or answers it from the cache).
    pub async fn chat(&self, req: &ChatRequest) -> Result<Completion> {
        let structured = self.wants_structured(req);
        // The request as sent first and, under `auto`, its text-only fallback; a cached answer
        // under either form counts.
        let mut forms = vec![structured];
        if structured && self.cfg.structured_output == StructuredOutput::Auto {
            forms.push(false);
        }
        let forms: Vec<(bool, Value, String)> = forms
            .into_iter()
            .map(|s| {
                let body = self.request_body(req, s);
                let key = key_of(&body);
                (s, body, key)
            })
            .collect();
        for (s, _, key) in &forms {
            if let Some(entry) = self.cache.get(key) {
                let c = completion_of(&entry.response, key.clone(), true, *s)?;
                self.stats.cache_hits.fetch_add(1, Relaxed);
                let (p, k) = usage(&entry.response);
                self.stats.cached_prompt_tokens.fetch_add(p, Relaxed);
                self.stats.cached_completion_tokens.fetch_add(k, Relaxed);
                return Ok(c);
            }
        }
        let mut forms = forms.into_iter();
        let (_, body, key) = forms.next().expect("at least the first form");
        if self.cfg.offline {
            if let Some(m) = &self.collected {
                m.lock().expect("collect lock").push((key.clone(), body));
            }
            return Err(LlmError::OfflineMiss { key, cache: self.cache.dir().to_path_buf() });
        }
        match self.send(req, structured, body, key).await {
            Err(LlmError::Api { status: 400, message }) if mentions_response_format(&message) => match forms.next() {
                // Only under `auto` is there a text form to fall back to.
                Some((_, text_body, text_key)) => {
                    tracing::warn!(%message, "the server refused structured output; parsing text from now on");
                    self.structured_ok.store(false, Relaxed);
                    self.send(req, false, text_body, text_key).await
                }
                None => Err(LlmError::Api { status: 400, message }),
            },
            other => other,
        }
    }

    async fn send(&self, req: &ChatRequest, structured: bool, body: Value, key: String) -> Result<Completion> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        if let Some(rpm) = &self.rpm {
            rpm.until_ready().await;
        }
        if let Some((tpm, cap)) = &self.tpm {
            let estimate =
                req.messages.iter().map(|m| m.content.len() as u32 / 4 + 4).sum::<u32>() + self.cfg.max_tokens;
            let n = NonZeroU32::new(estimate.clamp(1, *cap)).expect("at least 1");
            tpm.until_n_ready(n).await.expect("clamped to the burst size");
        }
        let response: Value = match self.openai.chat().create_byot(&body).await {
            Ok(v) => v,
            Err(e) => {
                self.stats.failures.fetch_add(1, Relaxed);
                return Err(self.map_error(e));
            }
        };
        let completion = completion_of(&response, key.clone(), false, structured)?;
        self.stats.requests.fetch_add(1, Relaxed);
        let (p, c) = usage(&response);
        self.stats.prompt_tokens.fetch_add(p, Relaxed);
        self.stats.completion_tokens.fetch_add(c, Relaxed);
        self.cache.put(&Entry { key, request: body, response })?;
        Ok(completion)
    }

    /// Sends many requests, at most `max_concurrent` at a time, showing a progress bar; the
    /// answers come back in the order of `reqs`.
    pub async fn chat_all(&self, reqs: &[ChatRequest], what: &str) -> Vec<Result<Completion>> {
        let bar = if self.cfg.progress && reqs.len() > 1 {
            indicatif::ProgressBar::new(reqs.len() as u64)
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed_precise} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        // Unordered, so that one slow answer (a model generating to its token limit) does not
        // hold back the requests behind it; the semaphore in `chat` bounds what is in flight.
        let mut out = futures::stream::iter(reqs.iter().enumerate())
            .map(|(i, r)| {
                let bar = &bar;
                async move {
                    let c = self.chat(r).await;
                    bar.inc(1);
                    (i, c)
                }
            })
            .buffer_unordered(self.cfg.max_concurrent * 2)
            .collect::<Vec<_>>()
            .await;
        bar.finish_and_clear();
        out.sort_unstable_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn map_error(&self, e: OpenAIError) -> LlmError {
        let auth = |status: u16, message: String| LlmError::Auth {
            base_url: self.cfg.base_url.clone(),
            status,
            message,
            key_env: self.cfg.api_key_env.clone(),
        };
        match e {
            OpenAIError::ApiError(r) => {
                let status = r.status_code.as_u16();
                if status == 401 || status == 403 {
                    auth(status, r.api_error.message)
                } else {
                    LlmError::Api { status, message: r.api_error.to_string() }
                }
            }
            // llama-server (and some proxies) send `"code": 401` as a number, which async-openai
            // cannot read as its string `code`: read the error object here.
            OpenAIError::JSONDeserialize(_, content) => match server_error(&content) {
                Some((status, message, kind)) => {
                    if status == 401 || status == 403 || kind.contains("authentication") {
                        auth(status, message)
                    } else {
                        LlmError::Api { status, message }
                    }
                }
                None => LlmError::Malformed(format!("not a chat completion: {}", clip(&content, 300))),
            },
            OpenAIError::Boxed(b) => match b.downcast::<TransportFailure>() {
                Ok(t) => LlmError::Transport { attempts: t.attempts, message: describe(&t.source) },
                Err(b) => LlmError::Transport { attempts: 1, message: b.to_string() },
            },
            OpenAIError::Reqwest(e) => LlmError::Transport { attempts: 1, message: describe(&e) },
            other => LlmError::Api { status: 0, message: other.to_string() },
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("timed out: {e}")
    } else if e.is_connect() {
        format!("could not connect: {e}")
    } else {
        e.to_string()
    }
}

fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn mentions_response_format(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("response_format") || m.contains("json_schema") || m.contains("schema")
}

/// `(status, message, type)` of an `{"error": {...}}` body whose `code` may be a number.
fn server_error(content: &str) -> Option<(u16, String, String)> {
    let v: Value = serde_json::from_str(content).ok()?;
    let err = v.get("error")?;
    let status = match err.get("code") {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as u16,
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
    let message = err.get("message").and_then(Value::as_str).unwrap_or("").to_string();
    let kind = err.get("type").and_then(Value::as_str).unwrap_or("").to_string();
    Some((status, message, kind))
}

fn usage(response: &Value) -> (u64, u64) {
    let u = &response["usage"];
    (u["prompt_tokens"].as_u64().unwrap_or(0), u["completion_tokens"].as_u64().unwrap_or(0))
}

fn completion_of(response: &Value, key: String, from_cache: bool, structured: bool) -> Result<Completion> {
    let choice = response
        .get("choices")
        .and_then(|c| c.get(0))
        .ok_or_else(|| LlmError::Malformed(format!("no `choices[0]` in {}", clip(&response.to_string(), 300))))?;
    let content = choice["message"]["content"].as_str().unwrap_or("").to_string();
    Ok(Completion {
        content,
        from_cache,
        key,
        structured,
        finish_reason: choice["finish_reason"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_error_codes_are_read() {
        let (s, m, k) =
            server_error(r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#)
                .unwrap();
        assert_eq!((s, m.as_str(), k.as_str()), (401, "Invalid API Key", "authentication_error"));
        assert!(server_error("<html>").is_none());
    }

    #[test]
    fn request_body_carries_parameters_not_the_key() {
        std::env::set_var("HILGEN_TEST_SECRET_KEY", "sk-very-secret");
        let cfg = LlmConfig {
            api_key_env: "HILGEN_TEST_SECRET_KEY".into(),
            seed: Some(3),
            temperature: 0.25,
            ..LlmConfig::default()
        };
        let client = LlmClient::new(cfg).unwrap();
        let req = ChatRequest { messages: vec![Message::system("s"), Message::user("u")], schema: None };
        let body = client.request_body(&req, false);
        assert_eq!(body["seed"], 3);
        assert_eq!(body["temperature"], 0.25);
        assert_eq!(body["messages"][1]["role"], "user");
        assert!(!body.to_string().contains("very-secret"));
        assert!(!format!("{client:?}").contains("very-secret"));
    }
}
