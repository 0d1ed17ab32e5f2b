//! The client against an in-process OpenAI-compatible server: request shape, retries, timeouts,
//! malformed answers, the cache, offline mode, concurrency and rate limits, authentication
//! errors and the structured-output fallback.

mod support;

use hilgen_llm::{ChatRequest, LlmClient, LlmError, Message};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{config, MockServer, Reply};

fn req(text: &str) -> ChatRequest {
    ChatRequest { messages: vec![Message::system("be brief"), Message::user(text)], schema: None }
}

#[tokio::test]
async fn request_shape_and_key_header() {
    let server = MockServer::start(|_, _| Reply::content("ok"));
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("HILGEN_TEST_KEY_SHAPE", "sk-test-123");
    let cfg = hilgen_llm::LlmConfig {
        api_key_env: "HILGEN_TEST_KEY_SHAPE".into(),
        seed: Some(42),
        temperature: 0.3,
        max_tokens: 99,
        ..config(&server, dir.path())
    };
    let client = LlmClient::new(cfg).unwrap();
    let r = ChatRequest { schema: Some(("s".into(), json!({"type": "object"}))), ..req("hello") };
    let c = client.chat(&r).await.unwrap();
    assert_eq!(c.content, "ok");
    let body = &server.bodies()[0];
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["seed"], 42);
    assert_eq!(body["max_tokens"], 99);
    assert_eq!(body["temperature"], 0.3f32 as f64);
    assert_eq!(body["messages"][0], json!({"role": "system", "content": "be brief"}));
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["name"], "s");
    assert_eq!(server.seen.paths.lock().unwrap()[0], "/v1/chat/completions");
    assert_eq!(server.seen.auth.lock().unwrap()[0].as_deref(), Some("Bearer sk-test-123"));
    // The key is in no cache file.
    for entry in walk(&dir.path().join("cache")) {
        assert!(!std::fs::read_to_string(entry).unwrap().contains("sk-test-123"));
    }
    let s = client.summary();
    assert_eq!((s.requests, s.prompt_tokens, s.completion_tokens), (1, 11, 7));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[tokio::test]
async fn retries_429_honouring_retry_after_then_succeeds() {
    let server = MockServer::start(|n, _| match n {
        0 => Reply::json(429, json!({"error": {"message": "slow down", "type": "rate_limit_error", "code": null}}))
            .header("retry-after", "1"),
        1 => Reply::raw(503, "upstream overloaded"),
        _ => Reply::content("finally"),
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = hilgen_llm::LlmConfig { backoff_max_ms: 5_000, ..config(&server, dir.path()) };
    let client = LlmClient::new(cfg).unwrap();
    let t = Instant::now();
    let c = client.chat(&req("x")).await.unwrap();
    assert_eq!(c.content, "finally");
    assert!(t.elapsed() >= Duration::from_millis(950), "Retry-After: 1 was not honoured ({:?})", t.elapsed());
    let s = client.summary();
    assert_eq!((s.requests, s.http_attempts, s.retries, s.failures), (1, 3, 2, 0));
}

#[tokio::test]
async fn persistent_5xx_and_quota_errors_are_reported() {
    let server = MockServer::start(|_, _| Reply::raw(502, "bad gateway"));
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(hilgen_llm::LlmConfig { max_retries: 2, ..config(&server, dir.path()) }).unwrap();
    match client.chat(&req("x")).await {
        Err(LlmError::Api { status: 502, .. }) => {}
        other => panic!("expected a 502 API error, got {other:?}"),
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(client.summary().failures, 1);

    let quota = MockServer::start(|_, _| {
        Reply::json(
            429,
            json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}),
        )
    });
    let client = LlmClient::new(config(&quota, dir.path())).unwrap();
    let e = client.chat(&req("y")).await.unwrap_err();
    assert!(e.to_string().contains("quota"), "{e}");
    assert_eq!(quota.requests(), 1, "an exhausted quota is not retried");
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = MockServer::start(|_, _| Reply::content("late").delay(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = hilgen_llm::LlmConfig { timeout_s: 0.3, max_retries: 1, ..config(&server, dir.path()) };
    let client = LlmClient::new(cfg).unwrap();
    match client.chat(&req("x")).await {
        Err(LlmError::Transport { attempts: 2, message }) => assert!(message.contains("timed out"), "{message}"),
        other => panic!("expected a timeout after 2 attempts, got {other:?}"),
    }
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = hilgen_llm::LlmConfig {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        max_retries: 2,
        backoff_initial_ms: 1,
        progress: false,
        cache_dir: dir.path().join("c"),
        ..hilgen_llm::LlmConfig::default()
    };
    let client = LlmClient::new(cfg).unwrap();
    match client.chat(&req("x")).await {
        Err(LlmError::Transport { attempts: 3, message }) => assert!(message.contains("connect"), "{message}"),
        other => panic!("expected a connection error after 3 attempts, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_answers_are_errors_not_panics() {
    let server = MockServer::start(|n, _| match n {
        0 => Reply::raw(200, "this is not json"),
        1 => Reply::json(200, json!({"object": "chat.completion"})),
        _ => Reply::raw(200, "{\"choices\": [{\"message\": {\"content\": \"half"),
    });
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    for i in 0..3 {
        match client.chat(&req(&format!("q{i}"))).await {
            Err(LlmError::Malformed(m)) => assert!(!m.is_empty()),
            other => panic!("request {i}: expected a malformed-response error, got {other:?}"),
        }
    }
    assert!(client.cache().is_empty(), "nothing malformed is cached");
}

#[tokio::test]
async fn numeric_error_code_401_is_an_authentication_error() {
    // llama-server's answer to a wrong key, byte for byte.
    let server = MockServer::start(|_, _| {
        Reply::raw(401, r#"{"error":{"message":"Invalid API Key","type":"authentication_error","code":401}}"#)
    });
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("HILGEN_TEST_WRONG_KEY", "sk-wrong-key");
    let cfg = hilgen_llm::LlmConfig { api_key_env: "HILGEN_TEST_WRONG_KEY".into(), ..config(&server, dir.path()) };
    let client = LlmClient::new(cfg).unwrap();
    let e = client.chat(&req("x")).await.unwrap_err();
    assert!(matches!(e, LlmError::Auth { status: 401, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("Invalid API Key") && msg.contains("$HILGEN_TEST_WRONG_KEY") && !msg.contains("sk-wrong-key"),
        "{msg}"
    );
    assert_eq!(server.requests(), 1, "authentication errors are not retried");
}

#[tokio::test]
async fn cache_makes_reruns_free_and_offline_mode_fails_clearly() {
    let server = MockServer::start(|n, _| Reply::content(&format!("answer {n}")));
    let dir = tempfile::tempdir().unwrap();
    let offline = hilgen_llm::LlmConfig { offline: true, ..config(&server, dir.path()) };
    let e = LlmClient::new(offline.clone()).unwrap().chat(&req("a")).await.unwrap_err();
    assert!(matches!(e, LlmError::OfflineMiss { .. }), "{e:?}");
    assert!(e.to_string().contains("offline mode") && e.to_string().contains("cache"), "{e}");
    assert_eq!(server.requests(), 0);

    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    let first = client.chat(&req("a")).await.unwrap();
    let again = client.chat(&req("a")).await.unwrap();
    assert!(!first.from_cache && again.from_cache);
    assert_eq!(first.content, again.content);
    client.chat(&req("b")).await.unwrap();
    assert_eq!(server.requests(), 2);

    // A new process (new client) over the same cache, offline: everything answered, no request.
    let client = LlmClient::new(offline).unwrap();
    assert_eq!(client.chat(&req("a")).await.unwrap().content, "answer 0");
    assert_eq!(client.chat(&req("b")).await.unwrap().content, "answer 1");
    let s = client.summary();
    assert_eq!((s.requests, s.cache_hits), (0, 2));
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn concurrency_limit_is_never_exceeded() {
    let server = MockServer::start(|_, _| Reply::content("ok").delay(Duration::from_millis(150)));
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(hilgen_llm::LlmConfig { max_concurrent: 3, ..config(&server, dir.path()) }).unwrap();
    let reqs: Vec<ChatRequest> = (0..12).map(|i| req(&format!("q{i}"))).collect();
    let out = client.chat_all(&reqs, "test").await;
    assert!(out.iter().all(Result::is_ok));
    let max = server.seen.max_in_flight.load(std::sync::atomic::Ordering::SeqCst);
    assert!(max <= 3, "{max} requests in flight with max_concurrent = 3");
    assert!(max >= 2, "requests were not sent concurrently (max in flight {max})");
}

#[tokio::test]
async fn a_slow_answer_does_not_hold_back_the_requests_behind_it() {
    // The first request is answered after 3 s (a model generating to its token limit); the
    // twelve behind it are answered at once, and answers still come back in request order.
    let server = MockServer::start(|_, body| {
        let slow = body.to_string().contains("slow");
        Reply::content(if slow { "late" } else { "quick" }).delay(Duration::from_millis(if slow { 3000 } else { 0 }))
    });
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(hilgen_llm::LlmConfig { max_concurrent: 2, ..config(&server, dir.path()) }).unwrap();
    let mut reqs = vec![req("slow")];
    reqs.extend((0..12).map(|i| req(&format!("q{i}"))));
    let (out, seen_midway) = tokio::join!(client.chat_all(&reqs, "test"), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        server.requests()
    });
    assert_eq!(seen_midway, 13, "while the slow answer was pending only {seen_midway} of 13 requests were sent");
    let texts: Vec<String> = out.into_iter().map(|c| c.unwrap().content).collect();
    assert_eq!(texts[0], "late");
    assert!(texts[1..].iter().all(|t| t == "quick"));
}

#[tokio::test]
async fn requests_per_minute_spaces_requests() {
    let server = MockServer::start(|_, _| Reply::content("ok"));
    let dir = tempfile::tempdir().unwrap();
    // 240/min: a burst of 4, then one every 250 ms.
    let client = LlmClient::new(hilgen_llm::LlmConfig {
        requests_per_minute: Some(240),
        max_concurrent: 8,
        ..config(&server, dir.path())
    })
    .unwrap();
    let reqs: Vec<ChatRequest> = (0..8).map(|i| req(&format!("r{i}"))).collect();
    let t = Instant::now();
    client.chat_all(&reqs, "test").await;
    assert!(t.elapsed() >= Duration::from_millis(900), "8 requests at 240/min took only {:?}", t.elapsed());
}

#[tokio::test]
async fn tokens_per_minute_holds_back_large_requests() {
    let server = MockServer::start(|_, _| Reply::content("ok"));
    let dir = tempfile::tempdir().unwrap();
    // 6000 tokens/min: a burst of 1000 (ten seconds' worth), then 100 per second. Each request
    // is estimated at max_tokens (400) plus its prompt, so the third one waits about 2.3 s.
    let cfg = hilgen_llm::LlmConfig { tokens_per_minute: Some(6000), max_tokens: 400, ..config(&server, dir.path()) };
    let client = LlmClient::new(cfg).unwrap();
    let t = Instant::now();
    for i in 0..3 {
        client.chat(&req(&format!("t{i}"))).await.unwrap();
    }
    assert!(t.elapsed() >= Duration::from_secs(2), "3 x ~410 tokens at 6000/min took only {:?}", t.elapsed());
}

#[tokio::test]
async fn structured_output_falls_back_to_text_when_refused() {
    let server = MockServer::start(|_, body| {
        if body.get("response_format").is_some() {
            Reply::json(
                400,
                json!({"error": {"message": "response_format json_schema is not supported", "type": "invalid_request_error", "code": null}}),
            )
        } else {
            Reply::content("1. plain text answer here")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let client = LlmClient::new(config(&server, dir.path())).unwrap();
    let r = |t: &str| ChatRequest { schema: Some(("s".into(), json!({"type": "object"}))), ..req(t) };
    let c = client.chat(&r("one")).await.unwrap();
    assert!(!c.structured && c.content.contains("plain"));
    client.chat(&r("two")).await.unwrap();
    let with_format = server.bodies().iter().filter(|b| b.get("response_format").is_some()).count();
    assert_eq!((server.requests(), with_format), (3, 1), "after one refusal, no more structured requests");
}

#[tokio::test]
async fn azure_requests_go_to_the_deployment_with_an_api_key_header() {
    let server = MockServer::start(|_, _| Reply::content("azure ok"));
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("HILGEN_TEST_AZURE_KEY", "az-key");
    let mut cfg = config(&server, dir.path());
    cfg.provider = hilgen_llm::config::Provider::Azure;
    cfg.base_url = server.base_url.trim_end_matches("/v1").to_string();
    cfg.azure.deployment = "gpt35".into();
    cfg.api_key_env = "HILGEN_TEST_AZURE_KEY".into();
    let client = LlmClient::new(cfg).unwrap();
    assert_eq!(client.chat(&req("x")).await.unwrap().content, "azure ok");
    let path = server.seen.paths.lock().unwrap()[0].clone();
    assert!(path.starts_with("/openai/deployments/gpt35/chat/completions?api-version="), "{path}");
    assert_eq!(server.seen.auth.lock().unwrap()[0].as_deref(), Some("az-key"));
}
