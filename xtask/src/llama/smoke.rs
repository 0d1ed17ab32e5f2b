//! The smoke test of a freshly built `llama-server`: it must start, report healthy and answer a
//! real completion with the model before the build is cached. A server that dies is reported
//! with its exit status and the tail of its log, at once, not after a time-out.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the server may take to load the model.
const START_LIMIT: Duration = Duration::from_secs(180);

/// Starts `bin` with `model`, waits for `/health`, asks for eight tokens and stops it.
pub fn completion(bin: &Path, model: &Path) -> Result<()> {
    let log_dir = tempfile_dir()?;
    let log = log_dir.join("llama-server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).to_string();
    let child = Command::new(bin)
        .arg("-m")
        .arg(model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "-c", "512", "-np", "1", "-t", &threads])
        .stdout(Stdio::from(fs::File::create(&log)?))
        .stderr(Stdio::from(fs::OpenOptions::new().append(true).open(&log)?))
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let mut server = Stop(child);
    let result = (|| {
        let t = Instant::now();
        loop {
            if let Some(status) = server.0.try_wait()? {
                bail!("llama-server exited during start-up ({status}); its log ends:\n{}", tail(&log, 30));
            }
            if healthy(port) {
                break;
            }
            if t.elapsed() > START_LIMIT {
                bail!(
                    "llama-server was not healthy after {} s; its log ends:\n{}",
                    START_LIMIT.as_secs(),
                    tail(&log, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let body = r#"{"prompt": "Aspirin is a drug that", "n_predict": 8, "temperature": 0}"#;
        let answer: String = ureq::post(&format!("http://127.0.0.1:{port}/completion"))
            .timeout(Duration::from_secs(180))
            .set("Content-Type", "application/json")
            .send_string(body)
            .map_err(|e| match server.0.try_wait() {
                Ok(Some(status)) => {
                    anyhow::anyhow!("llama-server exited while answering ({status}); its log ends:\n{}", tail(&log, 30))
                }
                _ => anyhow::anyhow!("the completion request failed: {e}; the server's log ends:\n{}", tail(&log, 30)),
            })?
            .into_string()?;
        if !answer.contains("\"tokens_predicted\":8") && !answer.contains("\"tokens_predicted\": 8") {
            bail!("llama-server answered without 8 predicted tokens: {answer}");
        }
        eprintln!("setup: llama-server smoke completion passed");
        Ok(())
    })();
    drop(server);
    let _ = fs::remove_dir_all(&log_dir);
    result
}

/// Kills the server when dropped, whatever happened.
struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn healthy(port: u16) -> bool {
    ureq::get(&format!("http://127.0.0.1:{port}/health"))
        .timeout(Duration::from_secs(2))
        .call()
        .is_ok_and(|r| r.status() == 200)
}

/// The last `n` lines of the log (lossy).
fn tail(log: &Path, n: usize) -> String {
    let text = fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("hilgen-llama-smoke-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}
