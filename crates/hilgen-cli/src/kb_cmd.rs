//! `hilgen kb ...`: build, inspect and query a knowledge index.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use hilgen_kb::{build, Kb, Relation, RrfOptions, Sources};
use std::path::PathBuf;

/// Where the index lives (a folder holding `kb.hkb`, or the file itself).
#[derive(Args)]
pub struct KbPath {
    /// Index folder or file (default: $HILGEN_KB_INDEX, else ./kb).
    #[arg(long)]
    pub kb: Option<PathBuf>,
}

impl KbPath {
    fn open(&self) -> Result<Kb> {
        let path = self
            .kb
            .clone()
            .or_else(|| std::env::var_os("HILGEN_KB_INDEX").map(PathBuf::from))
            .unwrap_or_else(|| "kb".into());
        Kb::open(&path).with_context(|| {
            format!("opening the knowledge index at {} (build one with `hilgen kb build`)", path.display())
        })
    }
}

/// Knowledge index subcommands.
#[derive(Subcommand)]
pub enum KbCommand {
    /// Build an index from one or more sources (merged; written atomically to OUT/kb.hkb).
    Build {
        /// A UMLS META folder (MRCONSO.RRF, and MRSTY/MRREL/MRHIER when present).
        #[arg(long)]
        rrf: Option<PathBuf>,
        /// CTD vocabulary files (MEDIC diseases, chemicals; .tsv or .tsv.gz).
        #[arg(long)]
        ctd: Vec<PathBuf>,
        /// MeSH tree files (tree number, descriptor UI, name).
        #[arg(long)]
        mesh_tree: Vec<PathBuf>,
        /// MeSH descriptor XML files (descYYYY.xml).
        #[arg(long)]
        mesh_xml: Vec<PathBuf>,
        /// OBO ontologies (Disease Ontology, HPO, MONDO).
        #[arg(long)]
        obo: Vec<PathBuf>,
        /// RRF languages to keep (comma-separated; `all` keeps every language).
        #[arg(long, default_value = "ENG")]
        lang: String,
        /// Keep suppressed RRF atoms and relations.
        #[arg(long)]
        include_suppressed: bool,
        /// Only these RRF sources (SAB values, comma-separated).
        #[arg(long, value_delimiter = ',')]
        sab_allow: Vec<String>,
        /// Never these RRF sources.
        #[arg(long, value_delimiter = ',')]
        sab_deny: Vec<String>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Replace an index already in --out.
        #[arg(long)]
        overwrite: bool,
    },
    /// Link a mention to concepts (exact, normalized, then fuzzy).
    Link {
        /// The mention text.
        mention: String,
        #[command(flatten)]
        kb: KbPath,
        /// Maximum edit distance of fuzzy matches (0 to 2).
        #[arg(long, default_value_t = 2)]
        max_edits: u32,
        /// Number of candidates.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Expand a concept: synonyms, related (same semantic type), parents, children, siblings.
    Expand {
        /// Concept ID (native, e.g. C0011849 or MESH:D003924, or a cross-reference).
        concept: String,
        #[command(flatten)]
        kb: KbPath,
        /// synonyms, related, parents, children, siblings, or parents-children.
        #[arg(long, default_value = "parents")]
        relation: String,
        /// Hierarchy source (default: SNOMEDCT_US, then MSH, then MEDIC, then any).
        #[arg(long)]
        source: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// Counts of an index.
    Stats {
        #[command(flatten)]
        kb: KbPath,
    },
}

/// Runs one kb subcommand.
pub fn run(cmd: KbCommand) -> Result<()> {
    match cmd {
        KbCommand::Build {
            rrf,
            ctd,
            mesh_tree,
            mesh_xml,
            obo,
            lang,
            include_suppressed,
            sab_allow,
            sab_deny,
            out,
            overwrite,
        } => {
            let index = out.join(hilgen_kb::INDEX_FILE);
            anyhow::ensure!(
                overwrite || !index.exists(),
                "--out {}: an index is already there ({}); pass --overwrite to replace it",
                out.display(),
                index.display()
            );
            let languages = if lang == "all" { vec![] } else { lang.split(',').map(String::from).collect() };
            let opts = RrfOptions { languages, include_suppressed, allow_sources: sab_allow, deny_sources: sab_deny };
            let sources = Sources { rrf: rrf.map(|r| (r, opts)), ctd, mesh_tree, mesh_xml, obo };
            let start = std::time::Instant::now();
            let report = build(&sources, &out)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            tracing::info!("built {} concepts in {:.1}s", report.concepts, start.elapsed().as_secs_f64());
            Ok(())
        }
        KbCommand::Link { mention, kb, max_edits, limit } => {
            let kb = kb.open()?;
            let hits = kb.link(&mention, max_edits.min(2), limit);
            if hits.is_empty() {
                println!("no concept found for `{mention}`");
            }
            for h in hits {
                println!("{:.3}\t{}\t{}\t{:?}\t{}", h.score, h.concept, h.name, h.kind, h.matched);
            }
            Ok(())
        }
        KbCommand::Expand { concept, kb, relation, source, k } => {
            // The relation is checked before the index is opened: a typo costs nothing.
            let r = match relation.as_str() {
                "parents-children" => None,
                other => Some(other.parse::<Relation>().map_err(|_| {
                    anyhow::anyhow!(
                        "unknown --relation `{relation}`; expected synonyms, related, parents, children, siblings or parents-children"
                    )
                })?),
            };
            let kb = kb.open()?;
            let c = kb
                .lookup(&concept)
                .with_context(|| format!("unknown concept `{concept}` in {}", kb.path().display()))?;
            let expansions = match r {
                None => kb.parents_and_children(c, source.as_deref(), k)?,
                Some(r) => kb.expand(c, r, source.as_deref(), k)?,
            };
            println!("{} ({})", kb.id(c), kb.preferred_name(c));
            for e in expansions {
                println!(
                    "  {}\t{}\t{}\t{}{}",
                    e.relation,
                    e.concept,
                    e.name,
                    e.source,
                    e.via.map(|v| format!("\t{v}")).unwrap_or_default()
                );
            }
            Ok(())
        }
        KbCommand::Stats { kb } => {
            println!("{}", serde_json::to_string_pretty(&kb.open()?.stats())?);
            Ok(())
        }
    }
}
