//! `hilgen train`: a tagger (and DANN) trained on labelled files, saved as a Hugging Face
//! model folder.

use crate::input::InputArgs;
use anyhow::{Context, Result};
use clap::Args;
use hilgen_corpus::Sentence;
use hilgen_models::{
    Dann, DannConfig, DeviceChoice, Distance, EncoderConfig, Precision, Tagger, TaggerConfig, WordEncoder,
};
use std::path::{Path, PathBuf};

/// `hilgen train` options.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Training files (any input format with tags; several are concatenated).
    #[arg(long, required = true, num_args = 1..)]
    pub train: Vec<PathBuf>,
    /// A dev file: scored after every epoch; the best epoch's weights are kept.
    #[arg(long)]
    pub dev: Option<PathBuf>,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// The encoder: a Hugging Face BERT, RoBERTa or MPNet folder (default: $HILGEN_ENCODER).
    #[arg(long)]
    pub encoder: Option<PathBuf>,
    /// Where to train: cpu, cuda (an error without a GPU and a CUDA libtorch) or auto.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// A tiny randomly initialised BERT using the encoder's tokenizer (for trying things out).
    #[arg(long)]
    pub random_tiny: bool,
    /// The model folder to write (config.json, model.safetensors, tokenizer.json, DANN's
    /// support set).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace --out if it exists.
    #[arg(long)]
    pub overwrite: bool,
    /// Tagger hyper-parameters as TOML (the keys of `[model.tagger]` in an experiment); the
    /// flags below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Windows per batch.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Window length in sub-word tokens.
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The encoder's number format: f32, or bf16 mixed precision (about twice as fast on CPUs
    /// with AVX512-BF16 and on recent GPUs; kept with the model, so `hilgen tag` uses it too).
    #[arg(long)]
    pub precision: Option<Precision>,
    /// Pad each batch's length to a multiple of N tokens (default 32 on a GPU, 1 on the CPU:
    /// few batch shapes are faster on a GPU).
    #[arg(long, value_name = "N")]
    pub pad_to_multiple: Option<usize>,
    /// Stop when dev F1 has not improved for this many epochs (needs --dev).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Decode with Viterbi under IOB2 constraints.
    #[arg(long)]
    pub constrained_decoding: bool,
    /// DANN's distance: minkowski3 (minkowskiP), euclidean or cosine.
    #[arg(long, default_value = "minkowski3")]
    pub dann_distance: Distance,
    /// Do not fit DANN.
    #[arg(long)]
    pub no_dann: bool,
}

fn read_all(files: &[PathBuf], input_args: &InputArgs) -> Result<Vec<Sentence>> {
    let mut out = input_args.read_all(files)?;
    out.retain(|s| !s.is_empty());
    Ok(out)
}

fn tagger_config(args: &TrainArgs) -> Result<TaggerConfig> {
    let mut cfg: TaggerConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None => TaggerConfig::default(),
    };
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = args.$f { cfg.$f = v; } )* };
    }
    set!(epochs, learning_rate, batch_size, max_length, seed, precision);
    if args.pad_to_multiple.is_some() {
        cfg.pad_to_multiple = args.pad_to_multiple;
    }
    if args.patience.is_some() {
        anyhow::ensure!(args.dev.is_some(), "--patience needs --dev");
        cfg.early_stopping_patience = args.patience;
    }
    cfg.constrained_decoding |= args.constrained_decoding;
    cfg.check()?;
    Ok(cfg)
}

/// Runs `hilgen train`.
pub fn run(args: TrainArgs) -> Result<()> {
    // The output is checked before any work: a folder (new, or an old model to replace with
    // --overwrite) in a folder that exists and can be written, never one of the inputs.
    if args.out.exists() && !args.overwrite {
        anyhow::bail!("{} exists; pass --overwrite to replace it, or choose another --out", args.out.display());
    }
    if args.out.exists() && !args.out.is_dir() {
        anyhow::bail!("--out {} is a file; a model is a folder: choose another --out", args.out.display());
    }
    let parent = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    anyhow::ensure!(parent.is_dir(), "--out {}: the folder {} does not exist", args.out.display(), parent.display());
    tempfile::tempfile_in(parent)
        .with_context(|| format!("--out {}: cannot write into {}", args.out.display(), parent.display()))?;
    let cfg = tagger_config(&args)?;
    let train = read_all(&args.train, &args.input_args)?;
    anyhow::ensure!(!train.is_empty(), "the training files hold no sentences");
    let dev = args.dev.as_ref().map(|d| read_all(std::slice::from_ref(d), &args.input_args)).transpose()?;
    let labels = Tagger::labels_of(&train);
    anyhow::ensure!(labels.len() > 1, "the training files have no entity tags");
    let encoder = match &args.encoder {
        Some(p) => p.clone(),
        None => PathBuf::from(std::env::var_os("HILGEN_ENCODER").context("give --encoder (or set HILGEN_ENCODER)")?),
    };
    let device = args.device.resolve()?;
    let mut tagger = if args.random_tiny {
        let enc = WordEncoder::from_folder(&encoder)?;
        let bert = EncoderConfig::tiny(enc.vocab_size() as i64);
        Tagger::with_random_weights(bert, enc, labels.clone(), cfg, device)?
    } else {
        Tagger::from_pretrained(&encoder, labels.clone(), cfg, device)?
    };
    eprintln!("training on {} sentences, labels {labels:?}", train.len());
    // A checkpoint beside the output lets an interrupted training resume.
    let checkpoint = checkpoint_dir(&args.out);
    let report = tagger.train(&train, dev.as_deref(), Some(&checkpoint))?;
    let dann = if args.no_dann {
        None
    } else {
        Some(Dann::fit(&tagger, &train, DannConfig { distance: args.dann_distance, ..DannConfig::default() })?)
    };
    // Saved beside --out and swapped in (the old model stays whole until the new one is).
    tagger.save_model(&args.out, &report, |dir| dann.as_ref().map_or(Ok(()), |d| d.save(dir)))?;
    let _ = std::fs::remove_dir_all(&checkpoint);
    if let Some(dev) = &dev {
        let f1 = tagger.score(dev)?;
        eprintln!("dev F1: tagger {:.4} (best epoch {})", f1, report.best_epoch);
        if let Some(d) = &dann {
            let pred = d.predict_sentences(&tagger, dev)?;
            let f = hilgen_metrics::evaluate_sentences(dev, &pred, hilgen_metrics::Options::default())?.micro.f1;
            eprintln!("dev F1: DANN {f:.4}");
        }
    }
    eprintln!("saved {} ({:.0} tokens/s)", args.out.display(), report.tokens_per_second);
    Ok(())
}

/// The checkpoint folder of a training into `out`.
fn checkpoint_dir(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "model".into());
    out.with_file_name(format!(".{name}.checkpoint"))
}
