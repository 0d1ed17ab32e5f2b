//! LLM strategies without a server: the Batch API round trip (`hilgen llm batch export` of the
//! requests a strategy needs, answered as a results file, imported, then `hilgen augment`
//! offline from the cache), offline misses as clear errors, and configuration errors that
//! name the file.

use serde_json::{json, Value};
use std::process::{Command, Output};

fn hilgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hilgen")).args(args).arg("--log").arg("error").output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn batch_export_import_then_offline_generation() {
    let dir = tempfile::tempdir().unwrap();
    let d = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(
        d("llm.toml"),
        format!("base_url = \"http://127.0.0.1:9/v1\"\nmodel = \"batch-model\"\napi_key_env = \"\"\nprogress = false\ncache_dir = {:?}\n", d("cache")),
    )
    .unwrap();
    let gen_n = |n: &str, extra: &[&str]| {
        let cfg = d("llm.toml");
        let strategy = format!("zerogen:n={n}");
        let mut a = vec!["augment", "--strategy", &strategy, "--types", "Chemical,Disease", "--llm-config", &cfg];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let gen = |extra: &[&str]| gen_n("2", extra);
    // 1. Export: one request per entity type, nothing sent.
    let mut args = gen(&[]);
    args.splice(0..1, ["llm".to_string(), "batch".to_string(), "export".to_string()]);
    args.extend(["--requests".to_string(), d("requests.jsonl")]);
    let out = hilgen(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = std::fs::read_to_string(d("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["url"], "/v1/chat/completions");
    assert_eq!(lines[0]["body"]["model"], "batch-model");

    // 2. Answers as the Batch API writes them.
    let answer = |ty: &str| {
        let (s1, e1, s2, e2) = if ty == "Chemical" {
            (
                "Cisplatin caused nephrotoxicity in rats.",
                "Cisplatin",
                "Lithium levels rose after dehydration.",
                "Lithium",
            )
        } else {
            (
                "The patient developed acute renal failure.",
                "acute renal failure",
                "Tremor was frequent at high doses.",
                "Tremor",
            )
        };
        json!({"items": [{"sentence": s1, "entities": [{"text": e1, "type": ty}]}, {"sentence": s2, "entities": [{"text": e2, "type": ty}]}]}).to_string()
    };
    let mut results = String::new();
    for (i, l) in lines.iter().enumerate() {
        let ty = if l["body"]["messages"][1]["content"].as_str().unwrap().contains("at least one Chemical") {
            "Chemical"
        } else {
            "Disease"
        };
        let body = json!({"id": format!("r{i}"), "object": "chat.completion", "model": "batch-model",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer(ty)}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}});
        results.push_str(&json!({"id": format!("batch_req_{i}"), "custom_id": l["custom_id"], "response": {"status_code": 200, "body": body}, "error": null}).to_string());
        results.push('\n');
    }
    std::fs::write(d("results.jsonl"), results).unwrap();
    let out = hilgen(&[
        "llm",
        "batch",
        "import",
        "--results",
        &d("results.jsonl"),
        "--requests",
        &d("requests.jsonl"),
        "--config",
        &d("llm.toml"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("imported 2 responses"), "{}", text(&out.stderr));

    // 3. The generation now runs offline, from the cache.
    let args = gen(&["--offline", "--out", &d("synth.tsv"), "--summary", &d("summary.json")]);
    let out = hilgen(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let synth = std::fs::read_to_string(d("synth.tsv")).unwrap();
    assert!(
        synth.contains("Cisplatin\tB-Chemical")
            && synth.contains("acute\tB-Disease")
            && synth.contains("failure\tI-Disease"),
        "{synth}"
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(d("summary.json")).unwrap()).unwrap();
    assert_eq!((summary["requests"].as_u64(), summary["cache_hits"].as_u64()), (Some(0), Some(2)));
    assert!(std::fs::read_to_string(d("synth.provenance.jsonl")).unwrap().contains("\"strategy\":\"zerogen\""));

    // 4. A request that is not cached, offline: a clear error, non-zero exit, no output.
    let args = gen_n("3", &["--offline", "--out", &d("other.tsv")]);
    let out = hilgen(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("offline mode"), "{}", text(&out.stderr));
    assert!(!dir.path().join("other.tsv").exists());
}

#[test]
fn configuration_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("llm.toml");
    std::fs::write(&cfg, "model = \"m\"\nmax_concurent = 4\n").unwrap();
    let out =
        hilgen(&["augment", "--strategy", "zerogen", "--types", "Disease", "--llm-config", cfg.to_str().unwrap()]);
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(e.contains("llm.toml") && e.contains("max_concurent"), "{e}");
    // Grounded generation needs the knowledge graph and says so.
    std::fs::write(dir.path().join("shots.tsv"), "Aspirin\tB-Chemical\nhelps\tO\n").unwrap();
    let shots = dir.path().join("shots.tsv");
    let out = hilgen(&["augment", "--strategy", "grounded-related", "--input", shots.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("needs a knowledge index (`--kb`"), "{}", text(&out.stderr));
}
