//! An in-process OpenAI-compatible server on 127.0.0.1 for the client tests: each request is
//! answered by a closure of (request number, body); the server records bodies and headers and
//! the most requests it ever had in flight.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One reply.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    /// A 200 chat completion with `content`.
    pub fn content(content: &str) -> Reply {
        Reply::json(200, completion(content))
    }
    pub fn json(status: u16, v: Value) -> Reply {
        Reply { status, headers: vec![], body: v.to_string(), delay: Duration::ZERO }
    }
    pub fn raw(status: u16, body: &str) -> Reply {
        Reply { status, headers: vec![], body: body.to_string(), delay: Duration::ZERO }
    }
    pub fn header(mut self, k: &'static str, v: &str) -> Reply {
        self.headers.push((k, v.to_string()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A chat completion body as OpenAI and llama-server send it.
pub fn completion(content: &str) -> Value {
    json!({"id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "test-model",
           "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
           "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
}

type Handler = dyn Fn(usize, &Value) -> Reply + Send + Sync;

#[derive(Default)]
pub struct Seen {
    pub bodies: Mutex<Vec<Value>>,
    pub auth: Mutex<Vec<Option<String>>>,
    pub paths: Mutex<Vec<String>>,
    pub count: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

pub struct MockServer {
    pub base_url: String,
    pub seen: Arc<Seen>,
}

impl MockServer {
    /// Starts a server on its own runtime (so tests may use either a blocking or async client).
    pub fn start(handler: impl Fn(usize, &Value) -> Reply + Send + Sync + 'static) -> MockServer {
        let seen = Arc::new(Seen::default());
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let s2 = seen.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let seen = s2.clone();
            let handler = handler.clone();
            async move {
                let n = seen.count.fetch_add(1, SeqCst);
                let now = seen.in_flight.fetch_add(1, SeqCst) + 1;
                seen.max_in_flight.fetch_max(now, SeqCst);
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.bodies.lock().unwrap().push(v.clone());
                seen.paths.lock().unwrap().push(uri.to_string());
                seen.auth.lock().unwrap().push(
                    headers
                        .get("authorization")
                        .or_else(|| headers.get("api-key"))
                        .map(|h| h.to_str().unwrap().to_string()),
                );
                let reply = handler(n, &v);
                tokio::time::sleep(reply.delay).await;
                seen.in_flight.fetch_sub(1, SeqCst);
                let mut resp: Response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
                for (k, v) in reply.headers {
                    resp.headers_mut().insert(k, v.parse().unwrap());
                }
                resp
            }
        });
        // Its own thread and runtime, alive until the test process ends.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap()
            })
        });
        MockServer { base_url: format!("http://{addr}/v1"), seen }
    }

    pub fn requests(&self) -> usize {
        self.seen.count.load(SeqCst)
    }
    pub fn bodies(&self) -> Vec<Value> {
        self.seen.bodies.lock().unwrap().clone()
    }
}

/// A client configuration for `server` with a fresh cache in `dir`, quick backoff, no progress bar.
pub fn config(server: &MockServer, dir: &std::path::Path) -> hilgen_llm::LlmConfig {
    hilgen_llm::LlmConfig {
        base_url: server.base_url.clone(),
        model: "test-model".into(),
        api_key_env: "HILGEN_TEST_NO_KEY".into(),
        cache_dir: dir.join("cache"),
        backoff_initial_ms: 5,
        backoff_max_ms: 50,
        max_retries: 3,
        timeout_s: 5.0,
        progress: false,
        ..hilgen_llm::LlmConfig::default()
    }
}
