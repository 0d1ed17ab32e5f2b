//! OpenAI-compatible LLM client for HILGEN, built on `async-openai` and `tokio`: for OpenAI,
//! Azure OpenAI, vLLM, llama.cpp's `llama-server` or Ollama. The general client (`client`,
//! `config`, `cache`, `transport`, `accounting`, `batch`) is apart from HILGEN's prompt tasks
//! ([`tasks`]: `generate`, `parse`, `prompts`).
//!
//! - [`LlmClient`]: configuration from a file and the environment ([`LlmConfig`]; the API key
//!   only ever read from an environment variable), an on-disk response cache keyed by the
//!   request ([`cache`]; a re-run makes no requests; `offline` fails on a miss), at most
//!   `max_concurrent` requests in flight, requests/tokens per minute, retries with backoff that
//!   honour `Retry-After` ([`transport`]), and [`Accounting`] of requests, tokens, rejections and cost.
//! - [`generate::Generator`]: HILGEN's LLM variants (generate, then IOB in a second turn, the
//!   model listing entities or tagging tokens, see [`config::Annotation`]), grounded
//!   generation, ZeroGen, and the zero-shot tagger, with prompts from files ([`prompts`]).
//! - [`parse`]: robust parsing of model output with rejection reasons.
//! - [`batch`]: OpenAI Batch API JSONL export, and import of results into the cache.
//!
//! ```no_run
//! use hilgen_llm::generate::{Generator, Source, Variant};
//! use hilgen_llm::parse::Labels;
//! use hilgen_llm::{LlmClient, LlmConfig};
//! # async fn run(shots: Vec<hilgen_corpus::Sentence>) -> hilgen_llm::Result<()> {
//! let client = LlmClient::new(LlmConfig::load(Some("llm.toml".as_ref()))?)?;
//! let generator = Generator::new(&client, Labels::new(["Chemical", "Disease"]))?;
//! let sources = shots.into_iter().enumerate().map(|(i, s)| Source::plain(i, s)).collect::<Result<Vec<_>, _>>()?;
//! let outcome = generator.hilgen(Variant::Related, &sources, 10).await?;
//! println!("{} sentences; {}", outcome.generated.len(), client.summary());
//! # Ok(()) }
//! ```

pub mod accounting;
pub mod batch;
pub mod cache;
pub mod client;
pub mod config;
mod error;
pub mod tasks;
pub mod transport;

pub use tasks::{generate, parse, prompts};

pub use accounting::{Accounting, Summary};
pub use client::{ChatRequest, Completion, LlmClient, Message, Role};
pub use config::LlmConfig;
pub use error::{LlmError, Result};
