//! A tiny experiment (random tiny encoder, 2 seeds, a few BC5CDR sentences, a knowledge layer
//! and a Dai & Adel strategy) runs every stage; it is interrupted, resumed, and run again, and
//! no completed stage is ever redone.

use hilgen_pipeline::{run, Experiment, PipelineError, RunOptions};
use std::path::PathBuf;

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(std::env::var_os(var).unwrap_or_else(|| panic!("{var} is set by .cargo/config.toml")))
}

#[test]
fn interrupted_run_resumes_without_redoing_stages() {
    let dir = tempfile::tempdir().unwrap();
    let data = env_path("HILGEN_DATA").join("bc5cdr/iob");
    let fmt = hilgen_corpus::conll::ConllFormat::default();
    let take = |split: &str, skip: usize, n: usize| {
        let all = hilgen_corpus::conll::read_path(data.join(split), &fmt).unwrap();
        let s: Vec<_> =
            all.into_iter().filter(|s| s.len() <= 25 && s.tags.iter().any(|t| t != "O")).skip(skip).take(n).collect();
        let p = dir.path().join(split);
        hilgen_corpus::conll::write_path(&p, &s, &fmt).unwrap();
        p
    };
    let (train, dev, test) = (take("train.tsv", 0, 16), take("devel.tsv", 0, 6), take("test.tsv", 0, 6));
    let kb = env_path("HILGEN_KB").join("ctd-medic-2017/CTD_diseases.tsv.gz");
    let toml = format!(
        r#"
        name = "tiny"
        k = 1
        seeds = [1, 2]
        strategies = ["synonyms", "mr"]
        bootstrap = 50
        ensemble_systems = 3
        [data]
        train = {train:?}
        dev = {dev:?}
        test = {test:?}
        [kb]
        ctd = [{kb:?}]
        [model]
        random_tiny = true
        epoch_budget = 4
        min_epochs = 1
        max_epochs = 2
        learning_rate = 0.001
        "#
    );
    let exp_path = dir.path().join("tiny.toml");
    std::fs::write(&exp_path, toml).unwrap();
    let exp = Experiment::from_file(&exp_path).unwrap();
    let out = dir.path().join("run");

    // Interrupted after 5 stages (kb, sample, two augmentations, one training).
    let opts = RunOptions { out: Some(out.clone()), stop_after: Some(5) };
    match run(&exp, &opts) {
        Err(PipelineError::Interrupted(m)) => assert!(m.contains("seed-1/train/synonyms"), "{m}"),
        other => panic!("expected an interruption, got {other:?}"),
    }
    assert!(out.join("seed-1/train/original/manifest.json").exists());
    assert!(!out.join("report").exists());
    // What a crash mid-stage leaves behind is never read, and is cleared.
    let junk = out.join("seed-1/train/.synonyms.partial-999999");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("tagger.test.tsv"), "half-written").unwrap();

    // Resumed: the five finished stages are skipped, the rest run.
    let resumed = run(&exp, &RunOptions { out: Some(out.clone()), stop_after: None }).unwrap();
    assert_eq!(
        resumed.skipped,
        ["kb", "seed-1/sample", "seed-1/augment/synonyms", "seed-1/augment/mr", "seed-1/train/original"]
    );
    for stage in [
        "seed-1/train/synonyms",
        "seed-1/train/mr",
        "seed-1/evaluate",
        "seed-1/ensemble",
        "seed-2/sample",
        "seed-2/evaluate",
        "seed-2/ensemble",
        "report",
    ] {
        assert!(resumed.executed.iter().any(|s| s == stage), "{stage} not run: {:?}", resumed.executed);
    }
    assert!(!junk.exists(), "the partial folder was cleared");
    for f in ["results.md", "results.json", "f1.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let r = &resumed.report;
    assert_eq!(r.seeds, [1, 2]);
    assert_eq!(r.rows.len(), 4, "original, two strategies, ensemble");
    assert!(r.rows.iter().all(|row| row
        .tagger
        .iter()
        .chain(&row.dann)
        .chain(&row.ensemble)
        .all(|c| (0.0..=1.0).contains(&c.f1.mean))));
    assert!(std::fs::read_to_string(out.join("f1.svg")).unwrap().starts_with("<svg"));

    // A third run redoes nothing.
    let again = run(&exp, &RunOptions { out: Some(out.clone()), stop_after: None }).unwrap();
    assert!(again.executed.is_empty(), "{:?}", again.executed);
    assert_eq!(again.report, resumed.report);

    // A changed input reruns only what depends on it.
    let mut changed = exp.clone();
    changed.bootstrap = 60;
    let third = run(&changed, &RunOptions { out: Some(out.clone()), stop_after: None }).unwrap();
    assert!(
        third.executed.iter().all(|s| s.ends_with("evaluate") || s.ends_with("ensemble") || s == "report"),
        "{:?}",
        third.executed
    );

    // LLM settings do not touch strategies that use no LLM (only the report, which records the
    // experiment, is written again).
    let mut llm_changed = changed.clone();
    llm_changed.llm.n = changed.llm.n + 3;
    let fourth = run(&llm_changed, &RunOptions { out: Some(out), stop_after: None }).unwrap();
    assert_eq!(fourth.executed, ["report"]);
}
