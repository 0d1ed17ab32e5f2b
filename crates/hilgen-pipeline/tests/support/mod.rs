//! A tiny experiment for the pipeline and CLI tests: a few short BC5CDR sentences, CTD MEDIC as
//! the knowledge source, a random tiny BERT with MiniLM's tokenizer, and (optionally) a fake
//! OpenAI-compatible LLM whose answers depend on the whole request, so that a change of model
//! or prompt changes what it writes.

#![allow(dead_code)]

#[path = "../../../hilgen-llm/tests/support/mod.rs"]
pub mod llm;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} is set by .cargo/config.toml")))
}

/// Writes `n` short labelled sentences of a BC5CDR split (after skipping `skip`) to `to`.
pub fn take(split: &str, skip: usize, n: usize, to: &Path) {
    let fmt = hilgen_corpus::conll::ConllFormat::default();
    let all = hilgen_corpus::conll::read_path(env_path("HILGEN_DATA").join("bc5cdr/iob").join(split), &fmt).unwrap();
    let s: Vec<_> =
        all.into_iter().filter(|s| s.len() <= 25 && s.tags.iter().any(|t| t != "O")).skip(skip).take(n).collect();
    hilgen_corpus::conll::write_path(to, &s, &fmt).unwrap();
}

/// FNV-1a of a string (a stable stand-in for what a model would make of a prompt).
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// A fake LLM: ZeroGen prompts get sentences naming a made-up entity that depends on the
/// request; tagging prompts get the sentence's longest word as a Disease.
pub fn fake_llm() -> llm::MockServer {
    llm::MockServer::start(|_, body: &Value| {
        let prompt =
            body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("");
        let h = fnv(&body.to_string()) % 100_000;
        if let Some(rest) = prompt.split("must mention at least one ").nth(1) {
            let ty = rest.split_whitespace().next().unwrap_or("Disease");
            let n: usize = prompt.split_whitespace().nth(1).and_then(|w| w.parse().ok()).unwrap_or(2);
            let items: Vec<Value> = (0..n)
                .map(|i| {
                    let e = if ty == "Chemical" { format!("compound{h}x{i}") } else { format!("syndrome{h}x{i}") };
                    json!({"sentence": format!("Patients given {e} were followed for {i} weeks ."), "entities": [{"text": e, "type": ty}]})
                })
                .collect();
            return llm::Reply::content(&json!({ "items": items }).to_string());
        }
        let sentence =
            prompt.lines().find(|l| l.len() > 20 && !l.contains("entities") && !l.starts_with("Find")).unwrap_or("");
        let word = sentence.split_whitespace().max_by_key(|w| w.len()).unwrap_or("");
        llm::Reply::content(&json!({"entities": [{"text": word, "type": "Disease"}]}).to_string())
    })
}

/// Writes the tiny experiment into `dir` and returns its path. `strategies` is the TOML list's
/// content; with `llm`, an LLM configuration for `server` (prompts from `dir/prompts`) and the
/// zero-shot tagger.
pub fn tiny(dir: &Path, strategies: &str, server: Option<&llm::MockServer>) -> PathBuf {
    take("train.tsv", 0, 16, &dir.join("train.tsv"));
    take("devel.tsv", 0, 6, &dir.join("dev.tsv"));
    take("test.tsv", 0, 6, &dir.join("test.tsv"));
    let kb = env_path("HILGEN_KB").join("ctd-medic-2017/CTD_diseases.tsv.gz");
    let mut toml = format!(
        r#"
name = "tiny"
k = 1
seeds = [1, 2]
strategies = [{strategies}]
bootstrap = 50
ensemble_systems = 3
[data]
train = "train.tsv"
dev = "dev.tsv"
test = "test.tsv"
[kb]
ctd = [{kb:?}]
[model]
random_tiny = true
[model.tagger]
learning_rate = 0.001
batch_size = 4
[model.schedule]
rule = "budget"
budget = 4
min_epochs = 1
max_epochs = 2
"#
    );
    if let Some(server) = server {
        std::fs::create_dir_all(dir.join("prompts")).unwrap();
        std::fs::write(
            dir.join("llm.toml"),
            format!(
                "base_url = {:?}\nmodel = \"fake-1\"\napi_key_env = \"\"\nprogress = false\ncache_dir = {:?}\nbackoff_initial_ms = 5\nmax_retries = 2\n[generation]\nprompts_dir = \"prompts\"\n",
                server.base_url,
                dir.join("llm-cache")
            ),
        )
        .unwrap();
        toml.push_str("[llm]\nconfig = \"llm.toml\"\nzero_shot_tagger = true\n");
    }
    let p = dir.join("tiny.toml");
    std::fs::write(&p, toml).unwrap();
    p
}
