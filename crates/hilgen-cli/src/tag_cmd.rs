//! `hilgen tag`: any system (a kept system folder, or a model folder's tagger or DANN) over new
//! text, a piece at a time.

use crate::input::{Format, InputArgs};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::document::{documents_of_sentences, with_mentions, Located};
use hilgen_corpus::formats::Contents;
use hilgen_corpus::stream::Chunks;
use hilgen_corpus::{conll, jsonl, pubtator, Sentence};
use hilgen_models::DeviceChoice;
use hilgen_system::{Head, RunOptions, System, Tag};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which head of a model folder tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SystemArg {
    /// The fine-tuned tagger.
    Tagger,
    /// DANN (nearest neighbours over the tagger's emissions).
    Dann,
}

/// `hilgen tag` options.
#[derive(Args, Debug)]
pub struct TagArgs {
    /// A kept system (a run's `seed-S/kept/system` or `kept/system`, `hilgen fewshot`'s
    /// output: the dictionary, a tagger, DANN, the LLM tagger or an ensemble of them, with its
    /// rule), or a model folder (`hilgen train`'s, a run's `seed-S/best/model`, or a Hugging
    /// Face Bert-, Roberta- or MPNetForTokenClassification folder).
    #[arg(long)]
    pub model: PathBuf,
    /// Where models run: cpu, cuda (an error without a GPU and a CUDA libtorch) or auto.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceChoice,
    /// Text to tag: raw text (.txt: documents separated by blank lines, first line the title),
    /// CoNLL/TSV (one token per row, alone or with other columns), JSON Lines or PubTator (tags
    /// and annotations in it are ignored). Read a piece at a time, whole documents each.
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Where to write the tagged text (written beside and renamed when complete; never the
    /// input; an existing file only with --overwrite; a link is written through).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing --out (and --scores).
    #[arg(long)]
    pub overwrite: bool,
    /// Format of --out (`auto`: from the name: .jsonl, .pubtator, else CoNLL; never raw text).
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = crate::input::format_parser())]
    pub out_format: Format,
    /// The head of a model folder (default: its `system.json`, else the tagger); not for a
    /// kept dictionary or ensemble, whose members were chosen together.
    #[arg(long, value_enum)]
    pub system: Option<SystemArg>,
    /// Windows per batch (default: the model's training batch size, doubled).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// The encoder's number format: f32 or bf16 mixed precision (about three times as fast on
    /// CPUs with AVX512-BF16; tags may differ a little from f32's). Default: the model's own.
    #[arg(long)]
    pub precision: Option<hilgen_models::Precision>,
    /// Pad each batch's length to a multiple of N tokens (default 32 on a GPU, 1 on the CPU).
    #[arg(long, value_name = "N")]
    pub pad_to_multiple: Option<usize>,
    /// Read and tag the input about this many MiB at a time (whole documents; memory grows
    /// with it, tags do not depend on it but for float rounding across batches).
    #[arg(long, default_value_t = 8, value_name = "MIB")]
    pub chunk_mib: usize,
    /// Also write each token's label log-probabilities as JSON Lines here (a tagger's only:
    /// not DANN's, the dictionary's or an ensemble's, whose choices are not these).
    #[arg(long)]
    pub scores: Option<PathBuf>,
}

/// A file written beside its place and renamed there when complete; a special file
/// (`/dev/null`, a FIFO) is written in place ([`hilgen_tempfiles::Staged`]).
struct Staged {
    target: PathBuf,
    file: std::io::BufWriter<hilgen_tempfiles::Staged>,
}

impl Staged {
    fn new(target: &Path) -> Result<Staged> {
        let file =
            hilgen_tempfiles::Staged::new(target).with_context(|| format!("writing beside {}", target.display()))?;
        Ok(Staged { target: target.to_path_buf(), file: std::io::BufWriter::new(file) })
    }

    fn finish(self) -> Result<()> {
        let file =
            self.file.into_inner().map_err(|e| e.into_error()).with_context(|| self.target.display().to_string())?;
        file.commit(&self.target).with_context(|| format!("writing {}", self.target.display()))
    }
}

/// Runs `hilgen tag`.
pub fn run(mut args: TagArgs) -> Result<()> {
    // Everything about the outputs is checked before the model is loaded.
    let out_format = if args.out_format == Format::Auto {
        Format::of_name(&args.out.to_string_lossy(), "")
    } else {
        args.out_format
    };
    anyhow::ensure!(
        out_format != Format::Text,
        "--out {}: raw text cannot hold tags; write CoNLL (.tsv), JSON Lines (.jsonl) or PubTator (.pubtator)",
        args.out.display()
    );
    anyhow::ensure!(args.chunk_mib > 0, "--chunk-mib must be at least 1");
    if args.system == Some(SystemArg::Dann) && args.scores.is_some() {
        anyhow::bail!(
            "--scores writes the tagger's log-probabilities, which are not what DANN chose by; \
             drop --scores or tag with --system tagger"
        );
    }
    let mut outs: Vec<(&str, &Path)> = vec![("--out", &args.out)];
    if let Some(s) = &args.scores {
        outs.push(("--scores", s));
    }
    let resolved = crate::output::check(&outs, &[&args.input], args.overwrite)?;
    args.out = resolved[0].clone();
    if args.scores.is_some() {
        args.scores = Some(resolved[1].clone());
    }
    let options = RunOptions {
        device: Some(args.device),
        batch_size: args.batch_size,
        precision: args.precision,
        pad_to_multiple: args.pad_to_multiple,
    };
    let head = args.system.map(|s| match s {
        SystemArg::Tagger => Head::Tagger,
        SystemArg::Dann => Head::Dann,
    });
    let system = hilgen_system::load(&args.model, head, &options)
        .with_context(|| format!("loading the system {}", args.model.display()))?;
    // Scores are a single tagger's.
    let scorer = match (&args.scores, &system.system) {
        (None, _) => None,
        (Some(_), System::Model(m)) if m.head == Head::Tagger => Some(m.neural.clone()),
        (Some(_), _) => anyhow::bail!(
            "--scores writes a tagger's log-probabilities; {} is {}, whose choices are not these: drop --scores",
            args.model.display(),
            system.describe()
        ),
    };
    let conll_format = args.input_args.conll.format()?;
    let chunks = Chunks::open(&args.input, args.input_args.format, &conll_format, args.chunk_mib << 20)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let (_, total) = chunks.progress();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("tag [{bar:30}] {bytes}/{total_bytes} {msg}, eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    let mut out = Staged::new(&args.out)?;
    let mut scores = args.scores.as_deref().map(Staged::new).transpose()?;
    let conll_out = conll::ConllFormat::default();
    let t = std::time::Instant::now();
    let (mut n_sentences, mut words, mut mentions) = (0usize, 0usize, 0usize);
    let mut chunks = chunks;
    while let Some(contents) = chunks.next() {
        let contents = contents.with_context(|| format!("reading {}", args.input.display()))?;
        let sentences = contents.sentences();
        let tagged: Vec<Sentence> = match &scorer {
            Some(neural) => {
                let tagger = neural.tagger();
                let emissions = tagger.emissions(&sentences)?;
                let predictions = tagger.decode_emissions(&emissions)?;
                let w = &mut scores.as_mut().expect("with --scores").file;
                let labels = tagger.labels();
                for (s, e) in sentences.iter().zip(&emissions) {
                    let rows: Vec<f32> = Vec::try_from(e.contiguous().view([-1]))?;
                    let rows: Vec<&[f32]> = rows.chunks(labels.len()).collect();
                    let line = serde_json::json!({"tokens": s.tokens, "labels": labels, "log_probs": rows});
                    writeln!(w, "{line}")?;
                }
                predictions.iter().zip(&sentences).map(|(p, s)| p.to_sentence(s)).collect()
            }
            None => system.tag(&sentences).with_context(|| format!("tagging with {}", args.model.display()))?,
        };
        n_sentences += sentences.len();
        words += sentences.iter().map(Sentence::len).sum::<usize>();
        mentions += tagged.iter().map(|s| s.mentions().map_or(0, |m| m.len())).sum::<usize>();
        write_piece(&mut out.file, &args.out, out_format, &contents, &tagged, &conll_out)?;
        let (read, _) = chunks.progress();
        bar.set_position(read);
        bar.set_message(format!("{:.0} words/s", words as f64 / t.elapsed().as_secs_f64().max(1e-9)));
    }
    bar.finish_and_clear();
    out.finish()?;
    if let Some(s) = scores {
        s.finish()?;
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "tagged {n_sentences} sentences ({words} words, {mentions} mentions) with {} in {secs:.1}s ({:.0} words/s); wrote {}",
        system.describe(),
        words as f64 / secs.max(1e-9),
        args.out.display()
    );
    Ok(())
}

/// Writes one piece's tagged sentences to `w` in `format` (PubTator: mentions at the original
/// text's offsets when the input had text).
fn write_piece(
    w: &mut impl Write,
    path: &Path,
    format: Format,
    contents: &Contents,
    tagged: &[Sentence],
    conll_format: &conll::ConllFormat,
) -> Result<()> {
    match (format, contents) {
        (Format::Pubtator, Contents::Documents(docs)) => {
            let mut next = tagged.iter();
            let out: Vec<pubtator::Document> = docs
                .iter()
                .map(|(d, located)| {
                    let located: Vec<Located> = located
                        .iter()
                        .map(|l| Located {
                            sentence: next.next().expect("one per sentence").clone(),
                            offsets: l.offsets.clone(),
                        })
                        .collect();
                    with_mentions(d, &located)
                })
                .collect();
            pubtator::write(w, &out, path)?;
        }
        (Format::Pubtator, Contents::Sentences(_)) => {
            let docs: Vec<pubtator::Document> =
                documents_of_sentences(tagged).iter().map(|(d, l)| with_mentions(d, l)).collect();
            pubtator::write(w, &docs, path)?;
        }
        (Format::Jsonl, _) => jsonl::write(w, tagged)?,
        _ => conll::write(w, tagged, conll_format).with_context(|| format!("writing {}", path.display()))?,
    }
    Ok(())
}
