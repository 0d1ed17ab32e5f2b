//! The tiny experiment (random tiny BERT, 2 seeds, a knowledge layer, a Dai & Adel strategy, an
//! LLM strategy and the LLM zero-shot tagger against a fake server) runs, is interrupted,
//! resumes, and a further run executes nothing. Then each input is changed in turn, and exactly
//! the stages that read it (and those downstream whose inputs therefore change) run again:
//! the LLM model through the environment, one prompt template, one gold tag, `test_limit`
//! (prediction and evaluation, never training), a strategy parameter. A dry run runs and writes
//! nothing; `stop_after` runs a target and what it needs.

mod support;

use hilgen_pipeline::{run, Experiment, PipelineError, Plan, RunOptions, RunSummary, Runtime, Status};
use std::collections::BTreeSet;
use std::path::Path;

fn go(exp: &Experiment, out: &Path, opts: RunOptions) -> (Plan, hilgen_pipeline::Result<RunSummary>) {
    let runtime = Runtime::default();
    let plan = Plan::resolve(exp, &runtime.registry, Some(out)).unwrap();
    let r = run(&plan, &opts, &runtime.with_llm(&plan));
    (plan, r)
}

fn complete(exp: &Experiment, out: &Path) -> (Plan, RunSummary) {
    let (plan, r) = go(exp, out, RunOptions::default());
    (plan, r.unwrap())
}

/// Every stage downstream of `ids` (and `ids` themselves).
fn downstream(plan: &Plan, ids: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = ids.clone();
    for n in &hilgen_pipeline::graph(plan) {
        if n.deps.iter().any(|d| out.contains(d)) {
            out.insert(n.id.clone());
        }
    }
    out
}

/// Runs `exp` and checks that the stages that read the change (`direct`) ran, and nothing that
/// does not depend on them.
fn reruns(exp: &Experiment, out: &Path, direct: &[String], what: &str) -> BTreeSet<String> {
    let (plan, summary) = complete(exp, out);
    let executed: BTreeSet<String> = summary.executed.iter().cloned().collect();
    let direct: BTreeSet<String> = direct.iter().cloned().collect();
    assert!(direct.is_subset(&executed), "{what}: expected {direct:?} to run, ran {executed:?}");
    let allowed = downstream(&plan, &direct);
    let extra: Vec<&String> = executed.difference(&allowed).collect();
    assert!(extra.is_empty(), "{what}: {extra:?} ran but do not depend on the change");
    println!("{what}: {} stages ran: {executed:?}", executed.len());
    executed
}

fn per_seed(f: impl Fn(u64) -> String) -> Vec<String> {
    [1, 2].map(f).to_vec()
}

#[test]
fn resolve_run_resume_and_rerun_exactly_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let server = support::fake_llm();
    let exp_path = support::tiny(
        dir.path(),
        r#""synonyms", {kind = "mr", p = 0.5}, {kind = "zerogen", n = 2}, {kind = "llm-silver", sample = 4}"#,
        Some(&server),
    );
    let exp = Experiment::from_file(&exp_path).unwrap();
    let out = dir.path().join("run");

    // A dry run on nothing: every stage would run, nothing is written.
    let (plan, r) = go(&exp, &out, RunOptions { dry_run: true, ..Default::default() });
    let r = r.unwrap();
    assert!(!out.exists(), "a dry run writes nothing");
    assert_eq!(r.stages.len(), hilgen_pipeline::graph(&plan).len());
    assert!(r.stages.iter().all(|(_, s)| matches!(s, Status::WouldRun | Status::Pending)));
    assert_eq!(r.stages.iter().filter(|(_, s)| *s == Status::WouldRun).count(), 2 + 2, "kb, llm-tagger, samples");

    // Interrupted after 5 stages, with a half-written stage left behind.
    let (_, r) = go(&exp, &out, RunOptions { max_stages: Some(5), ..Default::default() });
    match r {
        Err(PipelineError::Interrupted(m)) => assert!(m.contains("limit of 5"), "{m}"),
        other => panic!("expected an interruption, got {other:?}"),
    }
    let first: Vec<String> = hilgen_pipeline::graph(&plan).iter().take(5).map(|n| n.id.clone()).collect();
    assert_eq!(first, ["kb", "llm-tagger", "seed-1/sample", "seed-1/dictionary", "seed-1/augment/synonyms"]);
    let junk = out.join("seed-1/train/.original.partial-999999");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("model.safetensors"), "half-written").unwrap();

    // Resumed: the five finished stages are reused, the rest run.
    let (plan, resumed) = complete(&exp, &out);
    assert_eq!(resumed.skipped, first);
    assert_eq!(resumed.executed.len(), hilgen_pipeline::graph(&plan).len() - 5);
    assert!(!junk.exists(), "the partial folder was cleared");
    for f in ["results.md", "results.json", "f1.svg", "plan.json", "seed-1/best/model/config.json"] {
        assert!(out.join(f).exists(), "{f}");
    }
    llm_tagger_as_a_kept_system(&plan, &out, dir.path());
    let report = resumed.report.clone().unwrap();
    assert_eq!(report.seeds, [1, 2]);
    let rows: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        rows,
        [
            "original 1-shot",
            "+ synonyms",
            "+ mr",
            "+ zerogen",
            "+ llm-silver",
            "dictionary (types from the shots, filters on dev)",
            "LLM zero-shot tagger",
            "best ensemble (chosen on dev)"
        ]
    );
    let silver = &report.per_seed[0].augment["llm-silver"];
    assert_eq!((silver.requested, silver.count), (4, 4), "4 pool sentences tagged: {silver:?}");
    assert!(report.per_seed.iter().all(|s| s.kept.is_some()));
    assert!(
        report.per_seed.iter().all(|s| s.augment["zerogen"].count == 4),
        "2 per type: {:?}",
        report.per_seed[0].augment
    );

    // A further run executes nothing and gives the same report.
    let (_, again) = complete(&exp, &out);
    assert!(again.executed.is_empty(), "{:?}", again.executed);
    assert_eq!(again.report, resumed.report);
    let requests = server.requests();

    // The LLM model, through the environment: the LLM stages, and what reads their output.
    std::env::set_var("HILGEN_LLM_MODEL", "fake-2");
    let mut direct = per_seed(|s| format!("seed-{s}/augment/zerogen"));
    direct.extend(per_seed(|s| format!("seed-{s}/augment/llm-silver")));
    direct.push("llm-tagger".into());
    let ran = reruns(&exp, &out, &direct, "HILGEN_LLM_MODEL");
    assert!(ran.contains("seed-1/train/zerogen"), "new sentences retrain: {ran:?}");
    assert!(server.requests() > requests, "the new model was asked");
    std::env::remove_var("HILGEN_LLM_MODEL");
    // Back to the first model: answered from the LLM cache, no new request.
    let requests = server.requests();
    reruns(&exp, &out, &direct, "model restored");
    assert_eq!(server.requests(), requests);

    // One prompt template: only the stages that render it (ZeroGen, not the tagger).
    let default = hilgen_llm::prompts::DEFAULTS.iter().find(|(n, _)| *n == "zerogen_generate.j2").unwrap().1;
    std::fs::write(dir.path().join("prompts/zerogen_generate.j2"), format!("{default}\nKeep them short.")).unwrap();
    let ran = reruns(&exp, &out, &per_seed(|s| format!("seed-{s}/augment/zerogen")), "one prompt template");
    assert!(!ran.contains("llm-tagger") && !ran.contains("seed-1/augment/llm-silver"), "{ran:?}");

    // One gold tag of the test split: scoring, never prediction.
    let test = dir.path().join("test.tsv");
    let text = std::fs::read_to_string(&test).unwrap();
    let changed = text.replacen("\tO\n", "\tB-Disease\n", 1);
    assert_ne!(changed, text);
    std::fs::write(&test, changed).unwrap();
    let ran = reruns(
        &exp,
        &out,
        &[per_seed(|s| format!("seed-{s}/evaluate")), per_seed(|s| format!("seed-{s}/ensemble"))].concat(),
        "one gold tag",
    );
    assert!(ran.iter().all(|s| !s.contains("/predict/") && !s.contains("/train/") && s != "llm-tagger"), "{ran:?}");

    // test_limit: prediction and evaluation, never training.
    let mut limited = exp.clone();
    limited.test_limit = Some(4);
    let mut direct: Vec<String> =
        hilgen_pipeline::graph(&plan).iter().filter(|n| n.id.contains("/predict/")).map(|n| n.id.clone()).collect();
    direct.push("llm-tagger".into());
    direct.extend(per_seed(|s| format!("seed-{s}/dictionary")));
    let ran = reruns(&limited, &out, &direct, "test_limit");
    assert!(
        ran.iter().all(|s| !s.contains("/train/") && !s.contains("/augment/") && !s.ends_with("/sample")),
        "{ran:?}"
    );

    // A strategy parameter: that strategy's stages and what reads them.
    let mut p = limited.clone();
    p.strategies[1].params.insert("p".into(), serde_json::json!(0.9));
    let ran = reruns(&p, &out, &per_seed(|s| format!("seed-{s}/augment/mr")), "mr p");
    assert!(ran.contains("seed-2/train/mr") && !ran.contains("seed-1/train/synonyms"), "{ran:?}");

    // A dry run after a change: the changed stage would run, those after it are pending, and
    // nothing is touched.
    let mut b = p.clone();
    b.bootstrap = 60;
    let before = std::fs::read_to_string(out.join("seed-1/evaluate/manifest.json")).unwrap();
    let (_, r) = go(&b, &out, RunOptions { dry_run: true, ..Default::default() });
    let r = r.unwrap();
    let status = |id: &str| r.stages.iter().find(|(s, _)| s == id).unwrap().1.clone();
    assert_eq!(status("seed-1/evaluate"), Status::WouldRun);
    assert_eq!(status("seed-1/ensemble"), Status::Pending, "it reads the new scores, not known yet");
    assert_eq!(status("seed-1/train/mr"), Status::Complete);
    assert_eq!(std::fs::read_to_string(out.join("seed-1/evaluate/manifest.json")).unwrap(), before);

    // stop_after: the target kind and what it needs, in a fresh directory.
    let fresh = dir.path().join("fresh");
    let (_, r) = go(&p, &fresh, RunOptions { stop_after: Some("augment/mr".into()), ..Default::default() });
    let r = r.unwrap();
    assert_eq!(r.executed, ["seed-1/sample", "seed-1/augment/mr", "seed-2/sample", "seed-2/augment/mr"]);
    assert!(r.report.is_none());
    let e = go(&p, &fresh, RunOptions { stop_after: Some("trian".into()), ..Default::default() }).1.unwrap_err();
    assert!(e.to_string().contains("no such stage") && e.to_string().contains("train"), "{e}");
}

/// The LLM zero-shot tagger kept as a system (`llm.json`: the client settings, annotation and
/// templates) tags the test split as the run's `llm-tagger` stage did.
fn llm_tagger_as_a_kept_system(plan: &Plan, out: &Path, scratch: &Path) {
    use hilgen_system::Tag;
    let llm = plan.llm.as_ref().unwrap();
    let input = llm.input(hilgen_llm::prompts::Task::Tag);
    let settings = hilgen_system::LlmSettings {
        config: llm.client.clone(),
        annotation: input.annotation,
        templates: input.templates,
        types: plan.types(),
    };
    let dest = scratch.join("kept-llm");
    let assembly = hilgen_system::Assembly {
        members: vec![("llm/zero-shot".into(), hilgen_system::Source::Llm(Box::new(settings)))],
        rule: None,
        types: plan.types(),
        card: Default::default(),
    };
    hilgen_system::assemble(&dest, &assembly).unwrap();
    assert!(!std::fs::read_to_string(dest.join("llm.json")).unwrap().contains("sk-"), "no key is written");
    let system = hilgen_system::load(&dest, None, &Default::default()).unwrap();
    let test = hilgen_corpus::jsonl::read_path(out.join("data/test.jsonl")).unwrap();
    let tokens: Vec<hilgen_corpus::Sentence> = test.iter().map(hilgen_corpus::Sentence::untagged).collect();
    let tagged = system.tag(&tokens).unwrap();
    let run = hilgen_corpus::conll::read_path(out.join("llm-tagger/llm.test.tsv"), &Default::default()).unwrap();
    let tags = |s: &[hilgen_corpus::Sentence]| s.iter().map(|s| s.tags.clone()).collect::<Vec<_>>();
    assert_eq!(tags(&tagged), tags(&run));
    assert!(run.iter().any(|s| s.tags.iter().any(|t| t != "O")), "the fake LLM tags something");
}

#[test]
fn plans_refuse_what_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = support::tiny(dir.path(), r#""zerogen""#, None);
    let exp = Experiment::from_file(&exp_path).unwrap();
    let registry = hilgen_augment::Registry::builtin();
    let e = Plan::resolve(&exp, &registry, Some(&dir.path().join("run"))).unwrap_err().to_string();
    assert!(e.contains("zerogen") && e.contains("[llm] config"), "{e}");
    let mut bad = exp.clone();
    bad.strategies = vec!["lwtr:p=2".parse().unwrap()];
    let e = Plan::resolve(&bad, &registry, None).unwrap_err().to_string();
    assert!(e.contains("lwtr") && e.contains("p must be in (0, 1]"), "{e}");
    bad.strategies = vec!["siblngs".parse().unwrap()];
    let e = Plan::resolve(&bad, &registry, None).unwrap_err().to_string();
    assert!(e.contains("unknown strategy `siblngs`") && e.contains("siblings"), "{e}");
    let mut no_kb = exp.clone();
    no_kb.kb = Default::default();
    no_kb.strategies = vec!["related".parse().unwrap()];
    let e = Plan::resolve(&no_kb, &registry, None).unwrap_err().to_string();
    assert!(e.contains("related") && e.contains("[kb]"), "{e}");
}

#[test]
fn the_dictionary_distant_supervision_and_self_training_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path =
        support::tiny(dir.path(), r#"{kind = "distant", o_weight = 0.5}, {kind = "self-train", rounds = 2}"#, None);
    let mut exp = Experiment::from_file(&exp_path).unwrap();
    exp.seeds = vec![1];
    exp.model.schedule =
        hilgen_pipeline::experiment::Schedule::Steps { shot_passes: 2, synthetic_passes: 1, max_batch: 8 };
    let out = dir.path().join("run");
    let (plan, summary) = complete(&exp, &out);
    let nodes = hilgen_pipeline::graph(&plan);
    let ids: Vec<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
    let at = |id: &str| ids.iter().position(|x| *x == id).unwrap_or_else(|| panic!("{id} not in {ids:?}"));
    // The teacher of round 2 comes after round 1's model and may choose it.
    assert!(at("seed-1/teacher/self-train-r1") > at("seed-1/predict/distant"));
    assert!(at("seed-1/teacher/self-train-r2") > at("seed-1/predict/self-train-r1"));
    let m = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/teacher/self-train-r2")).unwrap();
    let systems: Vec<String> =
        m.inputs["candidates"].as_array().unwrap().iter().map(|c| c["system"].as_str().unwrap().to_string()).collect();
    assert!(
        systems.contains(&"tagger/self-train-r1".to_string()) && !systems.iter().any(|s| s.ends_with("-r2")),
        "{systems:?}"
    );
    let report = summary.report.unwrap();
    let rows: Vec<&str> = report.rows.iter().map(|r| r.name.as_str()).collect();
    for r in ["+ distant", "+ self-train-r1", "+ self-train-r2", "dictionary (types from the shots, filters on dev)"] {
        assert!(rows.contains(&r), "{r} not in {rows:?}");
    }
    // Distant supervision labelled the pool (the 16 training sentences less the shot), its O
    // words weighed 0.5 in training.
    let shots =
        hilgen_pipeline::stage::read_manifest(&out.join("seed-1/sample")).unwrap().result["count"].as_u64().unwrap();
    assert_eq!(report.per_seed[0].augment["distant"].count as u64, 16 - shots);
    let t = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/train/distant")).unwrap();
    assert_eq!(t.inputs["o_weight"], 0.5);
    // A tagger that tags none of its shots right is trained again at half the learning rate
    // (the tiny random BERT often does not fit its shots in two passes).
    for config in ["original", "distant"] {
        let t = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/train").join(config)).unwrap();
        if let Some(refit) = t.result.get("refit") {
            println!("{config}: refitted, shot F1 {}", refit["shot_f1"]);
            assert_eq!(refit["learning_rate"].as_f64(), Some(0.0005), "{refit}");
            assert!(!refit["first"]["losses"].as_array().unwrap().is_empty(), "{refit}");
        }
    }
    let d = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/dictionary")).unwrap();
    assert!(d.result["dev_f1"].as_f64().unwrap() >= 0.0);
    kept_systems_reproduce_the_ensemble_row(&out, &report);
}

/// `[dictionary] heldout_agreement`: the dictionary stage holds the matches labelled only
/// through a tree letter out of the pool's silver, trains a tagger on the rest, drops the names
/// it doubts (they join `dictionary.json`'s dropped names), and says so in `heldout.json`; the
/// plan refuses a threshold outside (0, 1].
#[test]
fn names_a_tagger_trained_without_them_doubts_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = support::tiny(dir.path(), r#"{kind = "distant", o_weight = 0.5}"#, None);
    // A pool of 150 sentences and the MeSH tree, whose chemical branches the shots name some of.
    support::take("train.tsv", 0, 150, &dir.path().join("train.tsv"));
    let mut exp = Experiment::from_file(&exp_path).unwrap();
    exp.seeds = vec![1];
    exp.k = hilgen_pipeline::experiment::Ks::One(4);
    let kb = std::path::PathBuf::from(std::env::var_os("HILGEN_KB").expect("set by .cargo/config.toml"));
    exp.kb.mesh_tree = vec![kb.join("mesh-tree-2017/2017MeshTree.txt")];
    exp.dictionary.heldout_agreement = Some(0.5);
    exp.model.schedule =
        hilgen_pipeline::experiment::Schedule::Steps { shot_passes: 2, synthetic_passes: 1, max_batch: 8 };
    let out = dir.path().join("run");
    complete(&exp, &out);
    let d = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/dictionary")).unwrap();
    assert_eq!(d.inputs["heldout"]["threshold"], 0.5);
    assert_eq!(d.inputs["heldout"]["o_weight"], 0.5);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("seed-1/dictionary/heldout.json")).unwrap()).unwrap();
    let held = report["held_mentions"].as_u64().unwrap();
    println!("held out {held} matches: {}", report["names"]);
    assert!(held > 0, "the tiny pool has matches labelled only through a tree letter: {report}");
    let names = report["names"].as_object().unwrap();
    let mentions: u64 = names.values().map(|n| n["mentions"].as_u64().unwrap()).sum();
    assert_eq!(mentions, held);
    assert!(!report["losses"].as_array().unwrap().is_empty(), "the held-out tagger trained");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("seed-1/dictionary/dictionary.json")).unwrap()).unwrap();
    let dropped_names: BTreeSet<&str> =
        saved["selection"]["config"]["dropped_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for (name, a) in names {
        let below = a["mean"].as_f64().unwrap() < 0.5;
        assert_eq!(dropped_names.contains(name.as_str()), below, "{name}: {a}");
    }

    let registry = hilgen_augment::Registry::builtin();
    for bad in [0.0, 1.5] {
        let mut wrong = exp.clone();
        wrong.dictionary.heldout_agreement = Some(bad);
        let e = Plan::resolve(&wrong, &registry, None).map(|_| ()).expect_err("refused").to_string();
        assert!(e.contains("heldout_agreement"), "{e}");
    }
    let mut wrong = exp.clone();
    wrong.dictionary.heldout_labels = vec!["Gene".into()];
    let e = Plan::resolve(&wrong, &registry, None).map(|_| ()).expect_err("refused").to_string();
    assert!(e.contains("`Gene`") && e.contains("Chemical"), "{e}");
    let mut wrong = exp.clone();
    wrong.dictionary.heldout_agreement = None;
    wrong.dictionary.heldout_labels = vec!["Chemical".into()];
    assert!(Plan::resolve(&wrong, &registry, None).is_err(), "heldout_labels without heldout_agreement");

    // Only the labels named are held out: the same run judging chemicals holds out no disease.
    let mut chemicals = exp.clone();
    chemicals.dictionary.heldout_labels = vec!["Chemical".into()];
    let out = dir.path().join("run-chemicals");
    complete(&chemicals, &out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("seed-1/dictionary/heldout.json")).unwrap()).unwrap();
    let chemical_mentions: u64 =
        names.values().filter(|n| n["label"] == "Chemical").map(|n| n["mentions"].as_u64().unwrap()).sum();
    assert_eq!(report["held_mentions"].as_u64(), Some(chemical_mentions), "{report}");
    assert!(report["names"].as_object().unwrap().values().all(|n| n["label"] == "Chemical"), "{report}");
}

/// The tiny experiment with distant supervision and `student` (a `self-train` strategy), one
/// seed and a short schedule, run to the end in `dir/run`.
fn run_distant_and_student(dir: &Path, student: &str) -> (Experiment, std::path::PathBuf) {
    let exp_path = support::tiny(dir, &format!(r#"{{kind = "distant", o_weight = 0.5}}, {student}"#), None);
    let mut exp = Experiment::from_file(&exp_path).unwrap();
    exp.seeds = vec![1];
    exp.model.schedule =
        hilgen_pipeline::experiment::Schedule::Steps { shot_passes: 2, synthetic_passes: 1, max_batch: 8 };
    let out = dir.join("run");
    complete(&exp, &out);
    (exp, out)
}

/// A student of fixed labels: `self-train` with its teacher, threshold and order fixed learns
/// from the named system whatever dev says, labels the pool with the dictionary's spans first,
/// and refuses a teacher that no earlier configuration trains.
#[test]
fn a_self_training_round_with_a_fixed_teacher() {
    let dir = tempfile::tempdir().unwrap();
    let (exp, out) = run_distant_and_student(
        dir.path(),
        r#"{kind = "self-train", name = "student", rounds = 1, teacher = "tagger/distant", thresholds = [0.9], dictionary_first = true, o_weight = 0.5}"#,
    );
    let t = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/teacher/student")).unwrap();
    assert_eq!(t.inputs["fixed"], "tagger/distant");
    assert_eq!(t.result["system"], "tagger/distant");
    let provenance = std::fs::read_to_string(out.join("seed-1/augment/student/provenance.jsonl")).unwrap();
    let first = provenance.lines().next().expect("the student has silver sentences");
    assert!(first.contains("teacher=tagger/distant/threshold=0.9/dictionary_first=true"), "{first}");

    let registry = hilgen_augment::Registry::builtin();
    let mut wrong = exp.clone();
    wrong.strategies[1].params.insert("teacher".into(), "tagger/related".into());
    let e = Plan::resolve(&wrong, &registry, None).map(|_| ()).expect_err("an unknown teacher is refused").to_string();
    assert!(e.contains("tagger/related") && e.contains("student"), "{e}");
}

/// BOND's soft labels: `self-train` with `soft` has its fixed tagger teacher write every
/// word's distribution over the labels, and its student trains on the sharpened distributions
/// of the words outside the kept spans (JSON Lines, the soft targets kept).
#[test]
fn a_soft_self_training_round() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = run_distant_and_student(
        dir.path(),
        r#"{kind = "self-train", name = "soft", rounds = 1, teacher = "tagger/distant", thresholds = [0.9], dictionary_first = true, o_weight = 0.5, soft = true}"#,
    );
    let t = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/teacher/soft")).unwrap();
    assert_eq!(t.inputs["distributions"], true);
    let pool = std::fs::read_to_string(out.join("seed-1/teacher/soft/teacher.pool.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(pool.lines().next().unwrap()).unwrap();
    let words = first["sentence"]["tokens"].as_array().unwrap().len();
    assert_eq!(first["distributions"]["words"].as_array().unwrap().len(), words, "{first}");
    assert_eq!(first["distributions"]["labels"], serde_json::json!(exp_labels(&out)));
    let silver = hilgen_corpus::jsonl::read_path(out.join("seed-1/augment/soft/synthetic.jsonl")).unwrap();
    let soft: Vec<_> = silver.iter().filter_map(|s| s.soft.as_ref().map(|t| (s, t))).collect();
    assert!(!soft.is_empty(), "the student's sentences carry soft targets");
    for (s, t) in soft {
        for (i, p) in &t.words {
            assert_eq!(s.tags[*i], "O", "soft targets only outside the kept spans");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{p:?}");
        }
    }
    let train = hilgen_pipeline::stage::read_manifest(&out.join("seed-1/train/soft")).unwrap();
    assert!(train.result["report"]["losses"][0].as_f64().unwrap().is_finite());
}

fn exp_labels(out: &Path) -> Vec<String> {
    let d = hilgen_corpus::jsonl::read_path(out.join("data/test.jsonl")).unwrap();
    hilgen_models::Tagger::labels_of(&d)
}

/// The kept system (the seed's and the run's), loaded from its folder and applied to the
/// run's test split through the one tagging interface, gives the ensemble row's test scores to
/// the last digit; its card and `system.json` say what it is.
fn kept_systems_reproduce_the_ensemble_row(out: &Path, report: &hilgen_pipeline::report::Report) {
    use hilgen_system::Tag;
    let test = hilgen_corpus::jsonl::read_path(out.join("data/test.jsonl")).unwrap();
    let tokens: Vec<hilgen_corpus::Sentence> = test
        .iter()
        .map(|s| hilgen_corpus::Sentence {
            tags: vec!["O".into(); s.len()],
            concepts: vec![],
            unknown: vec![],
            soft: None,
            ..s.clone()
        })
        .collect();
    let row = &report.per_seed[0].ensemble;
    for folder in ["seed-1/kept/system", "kept/system"] {
        let system = hilgen_system::load(&out.join(folder), None, &Default::default()).unwrap();
        assert_eq!(Some(system.describe()), row.note.clone(), "{folder}");
        let tagged = system.tag(&tokens).unwrap();
        let o = hilgen_metrics::Options { zero_division: hilgen_metrics::ZeroDivision::Zero, ..Default::default() };
        let e = hilgen_metrics::evaluate_sentences(&test, &tagged, o).unwrap().micro;
        assert_eq!((e.precision, e.recall, e.f1), (row.precision, row.recall, row.f1), "{folder}");
        let card = std::fs::read_to_string(out.join(folder).join("README.md")).unwrap();
        assert!(card.starts_with("---\n") && card.contains("pipeline_tag: token-classification"), "{card}");
        assert!(card.contains(&format!("{:.1}", 100.0 * row.f1)), "{card}");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(folder).join("system.json")).unwrap()).unwrap();
        assert_eq!(manifest["format"], 1);
        assert_eq!(manifest["card"]["k"], report.per_seed[0].k);
        println!("{folder}: {} ({})", manifest["description"], manifest["system"]["type"]);
    }
    let kept = report.per_seed[0].kept_system.as_ref().expect("the report names the kept system");
    assert!(kept.run && kept.folder == "seed-1/kept/system", "{kept:?}");
    // Any member and rule: the dictionary alone and its union with the distant tagger,
    // assembled from the run's files, tag as the run's stages did, tag for tag.
    let read = |p: &str| hilgen_corpus::conll::read_path(out.join(p), &Default::default()).unwrap();
    let dictionary = read("seed-1/dictionary/dictionary.test.tsv");
    let tagger = read("seed-1/predict/distant/tagger.test.tsv");
    assert!(dictionary.iter().any(|s| s.tags.iter().any(|t| t != "O")), "the dictionary tags something");
    let union = hilgen_metrics::ensemble::combine(
        &[&dictionary, &tagger],
        &hilgen_metrics::ensemble::Method::Union,
        &[1.0, 1.0],
        hilgen_corpus::Scheme::Iob2,
    )
    .unwrap();
    let kb = out.join("kb/kb.hkb");
    let d = hilgen_system::Source::Dictionary { dictionary: out.join("seed-1/dictionary/dictionary.json"), kb };
    let t = hilgen_system::Source::Model {
        folder: out.join("seed-1/train/distant/model"),
        head: hilgen_system::Head::Tagger,
        min_confidence: None,
        skip_symbols: false,
    };
    let cases = [
        ("dictionary", vec![("dictionary".to_string(), d.clone())], None, dictionary),
        (
            "union",
            vec![("dictionary".to_string(), d), ("tagger/distant".to_string(), t)],
            Some((hilgen_metrics::ensemble::Method::Union, vec![1.0, 1.0])),
            union,
        ),
    ];
    for (name, members, rule, expected) in cases {
        let dest = out.join(format!("assembled-{name}"));
        let assembly =
            hilgen_system::Assembly { members, rule, types: vec!["Disease".into()], card: Default::default() };
        hilgen_system::assemble(&dest, &assembly).unwrap();
        let system = hilgen_system::load(&dest, None, &Default::default()).unwrap();
        let tagged = system.tag(&tokens).unwrap();
        let tags = |s: &[hilgen_corpus::Sentence]| s.iter().map(|s| s.tags.clone()).collect::<Vec<_>>();
        assert_eq!(tags(&tagged), tags(&expected), "{name}");
    }
}

#[test]
fn a_learning_curve_over_k() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = support::tiny(dir.path(), r#""mr""#, None);
    let mut exp = Experiment::from_file(&exp_path).unwrap();
    exp.seeds = vec![1];
    exp.k = hilgen_pipeline::experiment::Ks::Many(vec![1, 2]);
    exp.dictionary.system = Some(false);
    let out = dir.path().join("run");
    let (plan, summary) = complete(&exp, &out);
    assert!(
        hilgen_pipeline::graph(&plan).iter().any(|n| n.id == "k2/seed-1/train/mr"),
        "{:?}",
        hilgen_pipeline::graph(&plan).iter().map(|n| &n.id).collect::<Vec<_>>()
    );
    let report = summary.report.unwrap();
    assert_eq!(report.k, 1, "the main table is the first K's");
    assert_eq!(report.curve["tagger/original"].keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert!(report.curve.contains_key("best ensemble"));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| K = 1 | K = 2 |"), "{md}");
    assert!(std::fs::read_to_string(out.join("curve.svg")).unwrap().starts_with("<svg"));
    // --stop-after with a kind matches the stages of every K.
    let r = run(
        &plan,
        &RunOptions { dry_run: true, stop_after: Some("sample".into()), ..Default::default() },
        &Runtime::default(),
    )
    .unwrap();
    let selected: Vec<&str> =
        r.stages.iter().filter(|(_, s)| *s != Status::NotSelected).map(|(i, _)| i.as_str()).collect();
    assert_eq!(selected, ["k1/seed-1/sample", "k2/seed-1/sample"]);
}

#[test]
fn a_k_shot_dev_makes_every_choice_on_its_own_sample() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = support::tiny(dir.path(), r#"{kind = "distant", o_weight = 0.5}"#, None);
    let split = Experiment::from_file(&exp_path).unwrap();
    let text = std::fs::read_to_string(&exp_path).unwrap() + "[selection]\ndev = \"k-shot\"\nk = 1\n";
    std::fs::write(&exp_path, text).unwrap();
    let exp = Experiment::from_file(&exp_path).unwrap();
    let out = dir.path().join("run");
    let runtime = Runtime::default();
    // The default protocol leaves the settings hash of every earlier run alone; k-shot changes it.
    let plan_split = Plan::resolve(&split, &runtime.registry, Some(&out)).unwrap();
    let plan = Plan::resolve(&exp, &runtime.registry, Some(&out)).unwrap();
    assert_ne!(plan.settings_hash(), plan_split.settings_hash());
    // Runs of other seeds share the hash (their dev samples differ as their shots do), so
    // `hilgen report merge` pools them.
    let mut other_seeds = exp.clone();
    other_seeds.seeds = vec![7];
    let plan_other = Plan::resolve(&other_seeds, &runtime.registry, Some(&out)).unwrap();
    assert_ne!(
        plan_other.data.dev_samples.keys().collect::<Vec<_>>(),
        plan.data.dev_samples.keys().collect::<Vec<_>>()
    );
    assert_eq!(plan_other.settings_hash(), plan.settings_hash());
    assert!(!serde_json::to_string(&plan_split).unwrap().contains("selection"));
    let (plan, summary) = complete(&exp, &out);
    for seed in [1, 2] {
        let unit = plan.units().into_iter().find(|u| u.seed == seed).unwrap();
        let dev = plan.dev(unit);
        assert_eq!(dev.labelled.file, std::path::PathBuf::from(format!("data/dev-seed-{seed}.jsonl")));
        let sentences = hilgen_corpus::jsonl::read_path(out.join(&dev.labelled.file)).unwrap();
        let gold = hilgen_corpus::jsonl::read_path(out.join("data/dev.jsonl")).unwrap();
        assert!(sentences.len() <= 2 && sentences.iter().all(|s| gold.contains(s)), "{} sentences", sentences.len());
        // Every stage that chooses reads this sample, never the split.
        for stage in ["dictionary", "evaluate", "ensemble", "kept"] {
            let m = hilgen_pipeline::stage::read_manifest(&out.join(format!("seed-{seed}/{stage}"))).unwrap();
            assert_eq!(m.inputs["dev"]["sha256"], dev.labelled.sha256.as_str(), "seed {seed} {stage}");
        }
        let m = hilgen_pipeline::stage::read_manifest(&out.join(format!("seed-{seed}/predict/distant"))).unwrap();
        assert_eq!(m.inputs["dev"]["sha256"], dev.tokens.sha256.as_str());
    }
    // The samples differ from each other and from the shots' seed.
    assert_ne!(plan.dev(plan.units()[0]).labelled.sha256, plan.dev(plan.units()[1]).labelled.sha256);
    let report = summary.report.unwrap();
    let protocol = report.meta.as_ref().unwrap().protocol.clone().unwrap();
    assert!(protocol.starts_with("k-shot dev: 1 per entity type"), "{protocol}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains(&format!("is made on the {protocol}")), "{md}");
    let card = std::fs::read_to_string(out.join("seed-1/kept/system/README.md")).unwrap();
    assert!(card.contains("k-shot dev"), "{card}");
    // With the LLM tagger (one dev split for every sample) the protocol is refused by name.
    let mut llm = exp.clone();
    llm.llm.zero_shot_tagger = true;
    assert!(llm.check().unwrap_err().contains("k-shot"));
    // A guard no p-value passes keeps the default union; only the choosing stages run again.
    let mut guarded = exp.clone();
    guarded.selection.guard_p = Some(1e-9);
    let (_, summary) = complete(&guarded, &out);
    let ran = &summary.executed;
    assert!(
        !ran.is_empty() && ran.iter().all(|i| ["ensemble", "kept", "best", "report"].iter().any(|k| i.contains(k))),
        "{ran:?}"
    );
    for s in &summary.report.unwrap().per_seed {
        // (members in their dev rank order)
        let kept = &s.kept_system.as_ref().unwrap().system;
        let union = ["union of dictionary + tagger/distant", "union of tagger/distant + dictionary"];
        assert!(union.contains(&kept.as_str()), "seed {}: {kept}", s.seed);
        let note = s.ensemble.note.clone().unwrap();
        assert!(note.starts_with(&format!("{kept} (kept by guard_p: ")), "seed {}: {note}", s.seed);
    }
    guarded.selection.guard_p = Some(0.0);
    assert!(guarded.check().unwrap_err().contains("guard_p"));
    // A dictionary guard no p-value passes keeps the grid's default configuration, and says so.
    let mut dict_guard = exp.clone();
    dict_guard.selection.dictionary_guard_p = Some(1e-9);
    let (plan, summary) = complete(&dict_guard, &out);
    assert!(summary.executed.iter().any(|i| i.contains("dictionary")), "{:?}", summary.executed);
    let default = plan.dictionary.as_ref().unwrap().default_config();
    for seed in [1, 2] {
        let json = std::fs::read_to_string(out.join(format!("seed-{seed}/dictionary/dictionary.json"))).unwrap();
        let saved: hilgen_dictionary::SavedDictionary = serde_json::from_str(&json).unwrap();
        assert_eq!(saved.selection.config, default, "seed {seed}");
        if let Some(o) = &saved.selection.overruled {
            assert!(o.p_value > 1e-9 && o.config != default, "seed {seed}: {o:?}");
        }
    }
    let protocol = summary.report.unwrap().meta.unwrap().protocol.unwrap();
    assert!(protocol.contains("dictionary options kept at the grid's defaults"), "{protocol}");
    // The max-statistic permutation test: both guards run it, the protocol says so, and a
    // choice no p-value lets through stays at the defaults as before.
    let mut max = dict_guard.clone();
    max.selection.guard_p = Some(1e-9);
    max.selection.guard_test = hilgen_metrics::GuardTest::MaxPermutation;
    let (plan, summary) = complete(&max, &out);
    assert!(summary.executed.iter().any(|i| i.contains("dictionary")), "{:?}", summary.executed);
    let default = plan.dictionary.as_ref().unwrap().default_config();
    let report = summary.report.unwrap();
    for s in &report.per_seed {
        let json = std::fs::read_to_string(out.join(format!("seed-{}/dictionary/dictionary.json", s.seed))).unwrap();
        let saved: hilgen_dictionary::SavedDictionary = serde_json::from_str(&json).unwrap();
        assert_eq!(saved.selection.config, default, "seed {}", s.seed);
        let kept = &s.kept_system.as_ref().unwrap().system;
        assert!(kept.starts_with("union of"), "seed {}: {kept}", s.seed);
    }
    let protocol = report.meta.unwrap().protocol.unwrap();
    assert!(protocol.contains("max-statistic permutation"), "{protocol}");
    max.selection.guard_p = None;
    max.selection.dictionary_guard_p = None;
    assert!(max.check().unwrap_err().contains("guard_test"));
    dict_guard.selection.dictionary_guard_p = Some(1.5);
    assert!(dict_guard.check().unwrap_err().contains("dictionary_guard_p"));
}

#[test]
fn with_no_dev_labels_the_dictionary_chooses_on_the_shots_and_the_ensemble_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = support::tiny(dir.path(), r#"{kind = "distant", o_weight = 0.5}"#, None);
    let text = std::fs::read_to_string(&exp_path).unwrap() + "[selection]\ndev = \"none\"\n";
    std::fs::write(&exp_path, text).unwrap();
    let exp = Experiment::from_file(&exp_path).unwrap();
    let out = dir.path().join("run");
    let (plan, summary) = complete(&exp, &out);
    assert_eq!(plan.fixed_ensemble().unwrap(), ["dictionary", "tagger/distant"]);
    for seed in [1, 2] {
        let unit = plan.units().into_iter().find(|u| u.seed == seed).unwrap();
        let dev = plan.dev(unit);
        assert_eq!(dev.labelled.file, std::path::PathBuf::from(format!("data/shots-seed-{seed}.jsonl")));
        // The "dev" sentences are the sample stage's shots, and no stage reads the dev split.
        let shots = hilgen_corpus::jsonl::read_path(out.join(format!("seed-{seed}/sample/fewshot.jsonl"))).unwrap();
        assert_eq!(hilgen_corpus::jsonl::read_path(out.join(&dev.labelled.file)).unwrap(), shots);
        for stage in ["dictionary", "evaluate", "ensemble", "kept"] {
            let m = hilgen_pipeline::stage::read_manifest(&out.join(format!("seed-{seed}/{stage}"))).unwrap();
            assert_eq!(m.inputs["dev"]["sha256"], dev.labelled.sha256.as_str(), "seed {seed} {stage}");
        }
    }
    // The ensemble is the union of the two, whatever dev F1 says; the kept system is it.
    let report = summary.report.unwrap();
    assert_eq!(report.per_seed.len(), 2);
    for s in &report.per_seed {
        assert_eq!(s.ensemble.note.as_deref(), Some("union of dictionary + tagger/distant"), "seed {}", s.seed);
        assert_eq!(s.kept_system.as_ref().unwrap().system, "union of dictionary + tagger/distant");
    }
    let protocol = report.meta.as_ref().unwrap().protocol.clone().unwrap();
    assert!(protocol.starts_with("no dev labels"), "{protocol}");
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("dev figures below are scores on the shots"), "{md}");
    let card = std::fs::read_to_string(out.join("seed-1/kept/system/README.md")).unwrap();
    assert!(card.contains("no labelled data beyond its"), "{card}");
    // What can only choose on labelled dev data is refused by name.
    let mut guard = exp.clone();
    guard.selection.guard_p = Some(0.05);
    assert!(guard.check().unwrap_err().contains("guard_p"));
    let mut patience = exp.clone();
    patience.model.tagger.early_stopping_patience = Some(2);
    assert!(patience.check().unwrap_err().contains("early_stopping_patience"));
    let mut teacher = exp.clone();
    teacher.strategies.push(hilgen_augment::StrategySpec::of("self-train"));
    let e = Plan::resolve(&teacher, &Runtime::default().registry, Some(&out)).unwrap_err().to_string();
    assert!(e.contains("self-train") && e.contains("none"), "{e}");
}
