//! `hilgen fewshot`: a kept system from a few labelled sentences, unlabelled text and a
//! knowledge source, in one command ([`hilgen_pipeline::fewshot`]).

use anyhow::{Context, Result};
use clap::Args;
use hilgen_augment::Registry;
use hilgen_models::DeviceChoice;
use hilgen_pipeline::fewshot::{fewshot, FewshotSpec};
use std::path::PathBuf;

/// `hilgen fewshot` options.
#[derive(Args, Debug)]
pub struct FewshotArgs {
    /// A few labelled sentences: CoNLL/TSV, JSON Lines or PubTator (5 per entity type is the
    /// setting the reports measure).
    #[arg(long, value_name = "FILE")]
    pub shots: PathBuf,
    /// Unlabelled in-domain text: raw text (documents separated by blank lines), PubTator,
    /// JSON Lines or CoNLL (labels ignored); the dictionary labels it to train the tagger.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    pub text: Vec<PathBuf>,
    /// The knowledge: an index (`kb.hkb` or its folder, from `hilgen kb build`), or sources to
    /// build one from (CTD `.tsv[.gz]`, a MeSH tree `*tree*.txt`, MeSH XML, OBO, a UMLS META
    /// folder); give several sources to merge them.
    #[arg(long, value_name = "INDEX_OR_SOURCES", num_args = 1.., required = true)]
    pub kb: Vec<PathBuf>,
    /// A labelled dev file, if you have one: the dictionary's filters and the kept system are
    /// then chosen on it (without one: default filters, with the recall options and
    /// coordinations on as always, and the dictionary backed off to the tagger's sure entities).
    #[arg(long, value_name = "FILE")]
    pub dev: Option<PathBuf>,
    /// With --dev: the choices of no dev file (the recommended dictionary options; the back-off
    /// of the dictionary to the tagger's sure entities) stay unless dev's choice beats them with a p-value at most this in
    /// --guard-test over the dev sentences (0.05 is the usual; for a dev file of a few
    /// sentences per type).
    #[arg(long, requires = "dev", value_name = "P")]
    pub guard_p: Option<f64>,
    /// The test of --guard-p: the paired bootstrap of dev's choice against the default, or a
    /// permutation test that counts every configuration and combination tried.
    #[arg(long, requires = "guard_p", default_value = "paired-bootstrap", value_parser = crate::input::guard_test_parser())]
    pub guard_test: hilgen_metrics::GuardTest,
    /// Names judged by a tagger that never saw them: the text's matches of names that only a
    /// tree letter labels (a MeSH branch no shot names) are held out of the silver labels, a
    /// tagger is trained on the rest (one more training), and the names whose matches it gives
    /// their type a mean probability below P are dropped from the dictionary (0.5: its
    /// majority). On BC5CDR, chemical names only: +0.7 test F1 on 5 of 5 seeds; disease names
    /// lost 0.8 on its dev split (docs/results/README.md, "Names judged by a tagger that never
    /// saw them").
    #[arg(long, value_name = "P")]
    pub heldout_agreement: Option<f64>,
    /// With --heldout-agreement: the entity types whose names it judges (default: every type).
    #[arg(long, requires = "heldout_agreement", value_name = "TYPE", num_args = 1..)]
    pub heldout_labels: Vec<String>,
    /// The encoder to fine-tune (default: $HILGEN_ENCODER).
    #[arg(long, value_name = "DIR")]
    pub encoder: Option<PathBuf>,
    /// Where models train: cpu, cuda or auto.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// The output folder: the kept system lands in OUT/kept/system, the report in OUT/fewshot.md;
    /// run the same command again to resume (stages whose inputs did not change are kept).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The training seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Passes over the shots (optimizer steps of training; the reports' recipe: 30).
    #[arg(long, default_value_t = 30)]
    pub shot_passes: usize,
    /// A tiny random BERT with the encoder's tokenizer (for tests).
    #[arg(long, hide = true)]
    pub random_tiny: bool,
}

/// Runs `hilgen fewshot`.
pub fn run(args: FewshotArgs, registry: &Registry) -> Result<()> {
    let encoder = args
        .encoder
        .clone()
        .or_else(|| std::env::var_os("HILGEN_ENCODER").map(PathBuf::from))
        .context("no encoder: give --encoder DIR or set HILGEN_ENCODER (`cargo xtask setup` prints it)")?;
    anyhow::ensure!(args.shot_passes > 0, "--shot-passes must be at least 1");
    if let Some(p) = args.guard_p {
        anyhow::ensure!(p > 0.0 && p <= 1.0, "--guard-p {p}: expected a p-value in (0, 1], such as 0.05");
    }
    if let Some(p) = args.heldout_agreement {
        anyhow::ensure!(p > 0.0 && p <= 1.0, "--heldout-agreement {p}: expected a probability in (0, 1], such as 0.5");
    }
    let inputs: Vec<&std::path::Path> =
        [&args.shots].into_iter().chain(&args.text).chain(&args.dev).map(|p| p.as_path()).collect();
    for p in &inputs {
        anyhow::ensure!(p.exists(), "{}: no such file", p.display());
    }
    let spec = FewshotSpec {
        shots: args.shots,
        text: args.text,
        kb: args.kb,
        dev: args.dev,
        encoder,
        random_tiny: args.random_tiny,
        out: args.out.clone(),
        seed: args.seed,
        device: args.device,
        shot_passes: args.shot_passes,
        guard_p: args.guard_p,
        guard_test: args.guard_test,
        heldout_agreement: args.heldout_agreement,
        heldout_labels: args.heldout_labels,
    };
    let runtime = hilgen_pipeline::Runtime { registry: registry.clone(), ..Default::default() };
    let t = std::time::Instant::now();
    let r = fewshot(&spec, &runtime)?;
    let mut md = String::new();
    md.push_str("# hilgen fewshot\n\n");
    md.push_str(&format!(
        "- Shots: {} sentences, {} mentions, entity types {}\n",
        r.shots.0,
        r.shots.1,
        r.types.join(", ")
    ));
    md.push_str(&format!(
        "- Unlabelled text: {} sentences; {} labelled by the dictionary for training\n",
        r.text.0, r.text.1
    ));
    md.push_str(&format!("- Labelled dev sentences: {}\n", r.dev));
    md.push_str(&format!("- Dictionary: {}\n", r.dictionary));
    md.push_str(&format!("- Kept system: **{}** in `{}`\n", r.kept.system, r.system.display()));
    md.push_str(&format!("- How: {}\n", r.kept.chosen));
    md.push_str(&format!(
        "- Stages run now: {} ({}); found complete: {}\n",
        r.stages.0.len(),
        r.stages.0.join(", "),
        r.stages.1.len()
    ));
    md.push_str(&format!(
        "\nApply it: `hilgen tag --model {} --input FILE --out tagged.pubtator`\n",
        r.system.display()
    ));
    let report = args.out.join("fewshot.md");
    crate::input::write_text(&report, &md)?;
    let json = args.out.join("fewshot.json");
    crate::input::write_text(&json, &serde_json::to_string_pretty(&r).expect("reports serialize"))?;
    eprint!("{md}");
    eprintln!("\n{:.1} min; wrote {} and {}", t.elapsed().as_secs_f64() / 60.0, report.display(), json.display());
    Ok(())
}
