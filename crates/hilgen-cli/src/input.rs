//! Reading corpus files in any supported format, chosen by flag or by file name.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hilgen_corpus::conll::{ConllFormat, Separator, TagColumn};
use hilgen_corpus::convert::{pubtator_to_iob, ConvertOptions};
use hilgen_corpus::{conll, jsonl, pubtator, Sentence};
use std::path::Path;

/// File formats the CLI reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Decide from the file name: `.jsonl`/`.json` JSON Lines, `.pubtator` or a
    /// `PMID|t|` first line PubTator, anything else CoNLL/TSV.
    Auto,
    /// CoNLL / TSV (token and tag columns).
    Conll,
    /// JSON Lines with tokens, tags and spans.
    Jsonl,
    /// PubTator documents (converted to IOB sentences when read).
    Pubtator,
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
        })
    }
}

/// Resolves `Auto` for `path`.
pub fn resolve(path: &Path, format: Format) -> Format {
    if format != Format::Auto {
        return format;
    }
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".jsonl") || name.ends_with(".json") {
        return Format::Jsonl;
    }
    if name.ends_with(".pubtator") || name.ends_with(".pubtator.txt") {
        return Format::Pubtator;
    }
    let head = std::fs::read(path).map(|b| b.into_iter().take(200).collect::<Vec<u8>>()).unwrap_or_default();
    let head = String::from_utf8_lossy(&head);
    let first = head.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut parts = first.splitn(3, '|');
    let is_pubtator = parts.next().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && matches!(parts.next(), Some("t"));
    if is_pubtator {
        Format::Pubtator
    } else {
        Format::Conll
    }
}

/// Reads sentences from `path` in `format`.
pub fn read(path: &Path, format: Format, conll_args: &ConllArgs) -> Result<Vec<Sentence>> {
    let sentences = match resolve(path, format) {
        Format::Jsonl => jsonl::read_path(path)?,
        Format::Pubtator => {
            let (docs, report) = pubtator::read_path(path)?;
            tracing::info!(
                "{}: {} documents, {} mentions ({} without IDs, {} text mismatches)",
                path.display(),
                report.documents,
                report.mentions,
                report.without_ids,
                report.text_mismatches
            );
            pubtator_to_iob(&docs, &ConvertOptions::default()).0
        }
        Format::Conll | Format::Auto => conll::read_path(path, &conll_args.format()?)?,
    };
    Ok(sentences)
}

/// Writes sentences to `path` atomically in `format` (`Auto`: JSON Lines for `.jsonl`, else CoNLL).
pub fn write(path: &Path, sentences: &[Sentence], format: Format) -> Result<()> {
    let name = path.to_string_lossy().to_lowercase();
    let jsonl_out =
        format == Format::Jsonl || (format == Format::Auto && (name.ends_with(".jsonl") || name.ends_with(".json")));
    anyhow::ensure!(format != Format::Pubtator, "writing PubTator is not supported; use conll or jsonl");
    if jsonl_out {
        jsonl::write_path(path, sentences)
    } else {
        conll::write_path(path, sentences, &ConllFormat::default())
    }
    .with_context(|| format!("writing {}", path.display()))
}
