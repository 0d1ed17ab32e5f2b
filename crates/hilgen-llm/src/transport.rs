//! The HTTP layer under `async-openai`: a tower service that sends each request with reqwest
//! and retries 429s, 5xx answers, timeouts and refused connections with exponential backoff and
//! full jitter, honouring `Retry-After` (seconds) and `retry-after-ms`, and counting every
//! attempt in [`Accounting`].

use crate::accounting::Accounting;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::Response;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long to wait between attempts.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub initial: Duration,
    /// Longest delay (also caps `Retry-After`).
    pub max: Duration,
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (0-based): uniform in `0..=min(max, initial * 2^retry)`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self.initial.saturating_mul(1u32 << retry.min(20)).min(self.max);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { rand::thread_rng().gen_range(0..=ms) })
    }

    /// The delay before retry `retry`: the server's `Retry-After` when it gives one (capped at
    /// `max`), else the jittered backoff.
    pub fn delay(&self, retry: u32, headers: Option<&HeaderMap>) -> Duration {
        match headers.and_then(retry_after) {
            Some(d) => d.min(self.max),
            None => self.backoff(retry),
        }
    }
}

/// The server's requested wait: `retry-after-ms` (OpenAI) or `Retry-After` in seconds.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return (ms.is_finite() && ms >= 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    let secs = get("retry-after")?.parse::<f64>().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The final failure of a request whose every attempt failed in transport.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct TransportFailure {
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    #[source]
    pub source: reqwest::Error,
}

/// Tower service executing `async-openai`'s requests with retries.
#[derive(Clone)]
pub struct RetryingHttp {
    client: reqwest::Client,
    policy: RetryPolicy,
    stats: Arc<Accounting>,
}

impl RetryingHttp {
    /// A service sending with `client` (which carries the timeout).
    pub fn new(client: reqwest::Client, policy: RetryPolicy, stats: Arc<Accounting>) -> RetryingHttp {
        RetryingHttp { client, policy, stats }
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for RetryingHttp {
    type Response = Response;
    type Error = OpenAIError;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> BoxFuture {
        let (client, policy, stats) = (self.client.clone(), self.policy, self.stats.clone());
        Box::pin(async move {
            let mut retry = 0u32;
            loop {
                let request = factory.build().await?;
                let url = request.url().path().to_string();
                stats.http_attempts.fetch_add(1, Relaxed);
                let outcome = client.execute(request).await;
                let last = retry >= policy.max_retries;
                let delay = match outcome {
                    Ok(resp) => {
                        let status = resp.status();
                        if !(status.as_u16() == 429 || status.is_server_error()) {
                            return Ok(resp);
                        }
                        let headers = resp.headers().clone();
                        let body = resp.bytes().await.map_err(OpenAIError::Reqwest)?;
                        // A 429 for an exhausted quota will not go away by waiting.
                        let quota = status.as_u16() == 429 && contains(&body, b"insufficient_quota");
                        if last || quota {
                            return Ok(rebuild(status, &headers, body));
                        }
                        let d = policy.delay(retry, Some(&headers));
                        tracing::warn!(%status, path = %url, retry = retry + 1, wait_ms = d.as_millis() as u64, "retrying");
                        d
                    }
                    Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => {
                        if last {
                            return Err(OpenAIError::Boxed(Box::new(TransportFailure {
                                attempts: retry + 1,
                                source: e,
                            })));
                        }
                        let d = policy.delay(retry, None);
                        tracing::warn!(error = %e, path = %url, retry = retry + 1, wait_ms = d.as_millis() as u64, "retrying");
                        d
                    }
                    Err(e) => {
                        return Err(OpenAIError::Boxed(Box::new(TransportFailure { attempts: retry + 1, source: e })))
                    }
                };
                stats.retries.fetch_add(1, Relaxed);
                retry += 1;
                tokio::time::sleep(delay).await;
            }
        })
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn rebuild(status: reqwest::StatusCode, headers: &HeaderMap, body: bytes::Bytes) -> Response {
    let mut builder = http::Response::builder().status(status);
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    Response::from(builder.body(body).expect("status and headers come from a valid response"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let p = RetryPolicy { max_retries: 3, initial: Duration::from_millis(100), max: Duration::from_secs(1) };
        assert_eq!(p.delay(0, Some(&h)), Duration::from_millis(250));
        h.insert("retry-after-ms", "999999".parse().unwrap());
        assert_eq!(p.delay(0, Some(&h)), Duration::from_secs(1));
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = RetryPolicy { max_retries: 9, initial: Duration::from_millis(100), max: Duration::from_millis(700) };
        for r in 0..10 {
            let cap = (100u64 << r).min(700);
            for _ in 0..50 {
                assert!(p.backoff(r).as_millis() as u64 <= cap);
            }
        }
    }
}
