//! Reading and writing corpus files in any supported format, chosen by flag or detected (see
//! `hilgen_corpus::formats`).

use anyhow::{Context, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use hilgen_corpus::conll::{ConllFormat, Separator, TagColumn};
pub use hilgen_corpus::formats::Format;
use hilgen_corpus::{formats, Sentence};
use std::path::Path;

/// How every command reads corpus files: the format (its values and their help come from
/// [`Format`] itself) and the CoNLL layout. Flattened into each command that reads one.
#[derive(Args, Clone, Debug)]
pub struct InputArgs {
    /// Format of the corpus files read.
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = format_parser())]
    pub format: Format,
    #[command(flatten)]
    pub conll: ConllArgs,
}

impl InputArgs {
    /// Reads the sentences of `path` (its errors name it).
    pub fn read(&self, path: &Path) -> Result<Vec<Sentence>> {
        read(path, self.format, &self.conll).with_context(|| format!("reading {}", path.display()))
    }

    /// Reads and concatenates the sentences of `paths`.
    pub fn read_all(&self, paths: &[std::path::PathBuf]) -> Result<Vec<Sentence>> {
        let mut out = Vec::new();
        for p in paths {
            out.extend(self.read(p)?);
        }
        Ok(out)
    }
}

/// clap's parser of a format flag: every [`Format`] with its aliases and what it holds (shown
/// by `--help`), so no help text lists the formats by hand.
pub fn format_parser() -> impl TypedValueParser<Value = Format> {
    let values = Format::ALL.map(|f| PossibleValue::new(f.name()).aliases(f.aliases().iter().copied()).help(f.about()));
    PossibleValuesParser::new(values).map(|name| name.parse::<Format>().expect("one of the listed names"))
}

/// The values of `--guard-test` (as `[selection] guard_test` spells them).
pub fn guard_test_parser() -> impl TypedValueParser<Value = hilgen_metrics::GuardTest> {
    let values = [
        PossibleValue::new("paired-bootstrap").help("the dev-best against the default alone, resampling dev sentences"),
        PossibleValue::new("max-permutation").help(
            "the dev-best's gain against the largest gain of any candidate tried, outputs shuffled within sentences",
        ),
    ];
    PossibleValuesParser::new(values)
        .map(|name| serde_json::from_value(serde_json::Value::String(name)).expect("one of the listed names"))
}

/// Options describing CoNLL input.
#[derive(Args, Clone, Debug)]
pub struct ConllArgs {
    /// 1-based column of the token in CoNLL input.
    #[arg(long, default_value_t = 1)]
    pub token_col: usize,
    /// 1-based column of the tag in CoNLL input (default: the last column).
    #[arg(long)]
    pub tag_col: Option<usize>,
    /// Split CoNLL fields on any whitespace instead of tabs (default: auto-detect).
    #[arg(long)]
    pub spaces: bool,
    /// Entity type for bare B/I/E/S tags.
    #[arg(long)]
    pub default_type: Option<String>,
}

impl ConllArgs {
    /// The corpus crate's CoNLL layout for these options.
    pub fn format(&self) -> Result<ConllFormat> {
        anyhow::ensure!(self.token_col >= 1, "--token-col is 1-based");
        anyhow::ensure!(self.tag_col != Some(0), "--tag-col is 1-based");
        Ok(ConllFormat {
            token_column: self.token_col - 1,
            tag_column: self.tag_col.map_or(TagColumn::Last, |c| TagColumn::Index(c - 1)),
            separator: if self.spaces { Separator::Whitespace } else { Separator::Auto },
            default_type: self.default_type.clone(),
            write_docstart: false,
            any_tags: false,
        })
    }
}

/// Resolves `Auto` for `path`.
pub fn resolve(path: &Path, format: Format) -> Format {
    format.resolve(path)
}

/// Reads sentences from `path` in `format`.
pub fn read(path: &Path, format: Format, conll_args: &ConllArgs) -> Result<Vec<Sentence>> {
    Ok(formats::read_sentences(path, format, &conll_args.format()?)?)
}

/// Writes sentences to `path` atomically in `format` (`Auto`: from the file name).
pub fn write(path: &Path, sentences: &[Sentence], format: Format) -> Result<()> {
    formats::write_sentences(path, sentences, format).with_context(|| format!("writing {}", path.display()))
}

/// Writes `text` to `path` through a temporary file and a rename (nothing half-written is left
/// under the name).
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    hilgen_corpus::write_atomic(path, |w| {
        std::io::Write::write_all(w, text.as_bytes()).map_err(|e| hilgen_corpus::CorpusError::io(path, e))
    })?;
    Ok(())
}
