//! `hilgen dictionary`: the knowledge graph as a tagger, its entity types learned from the shots
//! and its filters chosen on a dev file.

use crate::input::{self, Format, InputArgs};
use anyhow::{Context, Result};
use clap::Args;
use hilgen_dictionary::{select_guarded, Dictionary, DictionaryConfig, Grid, Guard, TypeMap};
use hilgen_kb::Kb;
use std::path::PathBuf;

/// `hilgen dictionary` options.
#[derive(Args, Debug)]
pub struct DictionaryArgs {
    /// Knowledge index (from `hilgen kb build`).
    #[arg(long)]
    pub kb: PathBuf,
    /// Labelled few-shot sentences: which concepts count as which entity type is learned from
    /// the concepts their mentions link to.
    #[arg(long)]
    pub shots: PathBuf,
    /// A labelled dev file: the filters are chosen on it, whether each match is labelled by
    /// its context and whether matches grow over coordinations (without one, the defaults are
    /// used).
    #[arg(long)]
    pub dev: Option<PathBuf>,
    /// With --dev: keep the options as the flags give them (no name or type dropped) unless
    /// dev's choice beats them with a p-value at most this in --guard-test over the dev
    /// sentences (0.05 is the usual; for a dev file of a few sentences per type).
    #[arg(long, requires = "dev", value_name = "P")]
    pub guard_p: Option<f64>,
    /// With --dev: keep abbreviations defined in a document on rather than let dev decide (a
    /// dev file of sentences sampled one by one holds no document to judge them on).
    #[arg(long, requires = "dev")]
    pub keep_abbreviations: bool,
    /// Fix adjective forms of names (hypertension -> "hypertensive") by what --shots and --dev
    /// mark: on where more of the matches they add are whole mentions than lie outside every
    /// mention, off where fewer. Where that does not decide, dev decides (with --dev) or they
    /// stay off.
    #[arg(long, conflicts_with = "adjectives")]
    pub adjective_evidence: bool,
    /// Enter the adjectives of one-word names (hypertension -> "hypertensive", epilepsy ->
    /// "epileptic") whatever the labelled files show, with or without --dev.
    #[arg(long)]
    pub adjectives: bool,
    /// The seed of --guard-p's test.
    #[arg(long, requires = "guard_p", default_value_t = 1)]
    pub guard_seed: u64,
    /// The test of --guard-p: the paired bootstrap of dev's best against the flags' options, or
    /// a permutation test that counts every configuration tried (the best of hundreds on a few
    /// sentences beats the defaults by chance more often than a test of the best alone says).
    #[arg(long, requires = "guard_p", default_value = "paired-bootstrap", value_parser = crate::input::guard_test_parser())]
    pub guard_test: hilgen_metrics::GuardTest,
    /// Without --dev: label each match by the words around it, among the entity types its
    /// concept was seen with in the shots (for types that share concepts, such as
    /// NCBI-Disease's SpecificDisease and Modifier). With --dev, dev decides.
    #[arg(long)]
    pub context_typing: bool,
    /// Without --dev: grow a match over a coordination before it whose conjuncts are names
    /// with its head ("breast and ovarian cancer" as one mention, where "breast cancer" is a
    /// name). With --dev, dev decides.
    #[arg(long)]
    pub coordination: bool,
    /// Also enter salt forms without their salt ("Scopolamine Hydrobromide" as
    /// "scopolamine"), with or without --dev.
    #[arg(long)]
    pub salts: bool,
    /// Read British spellings in names and text as American ("tumour", "anaemia",
    /// "oesophageal"), with or without --dev.
    #[arg(long)]
    pub spelling: bool,
    /// Label a word no name matches by an ending nearly all the graph's one-word names with
    /// that ending share ("olanzapine" as the "-apine" drugs), with or without --dev.
    #[arg(long)]
    pub suffixes: bool,
    /// An abbreviation defined after names of one label only, in any document of --input,
    /// takes that label in every document ("5-FU" where a document uses it undefined), with or
    /// without --dev.
    #[arg(long)]
    pub corpus_abbreviations: bool,
    /// Grow a match left over words that, before names of its label, make other names of it
    /// in the graph ("hereditary breast cancer" where "hereditary breast neoplasms" and
    /// "breast neoplasms" are names; with context typing, names of any label that shares
    /// concept types with its label), with or without --dev.
    #[arg(long)]
    pub modifiers: bool,
    /// Leave out one-word names of a whole class ("disease", "syndrome", "disorder"), which
    /// "the disease" and the like use, with or without --dev.
    #[arg(long)]
    pub generic_names: bool,
    /// A short form a document defines in brackets overrules the dictionary there: it takes
    /// its long form's label ("cyclophosphamide (CP)", not cerebral palsy), and, defined after
    /// words no name matches ("Sprague-Dawley (SD)"), is no mention in that document; with or
    /// without --dev.
    #[arg(long)]
    pub local_definitions: bool,
    /// Grow a match left over a locant, configuration letter or Greek letter joined to it by
    /// a hyphen ("6-thioguanine", "D-penicillamine", "L-dopa"), with or without --dev.
    #[arg(long)]
    pub prefixes: bool,
    /// Leave out acronym names shaped like gene symbols ("RB1", "WT1", "IDDM2": CTD lists them
    /// as synonyms of the diseases the genes cause), with or without --dev.
    #[arg(long)]
    pub drop_gene_symbols: bool,
    /// A tree category the shots show only beside a counted tree's (G05 "genetic phenomena"
    /// of "chromosomal abnormalities", also C23 diseases) labels no concept filed under it
    /// alone ("mutations", "gene"), with or without --dev.
    #[arg(long)]
    pub drop_co_types: bool,
    /// The mentions of --shots are names of their label too ("toxicity" where a shot marks it
    /// and the graph has no such name), with or without --dev.
    #[arg(long)]
    pub shot_names: bool,
    /// A symbol before a head word that many of the graph's names put after a symbol is one
    /// mention with it ("C9 deficiency", "HPT-JT syndrome", "PAH-deficient", where the graph
    /// has "HMGCS2 Deficiency" and the like), with or without --dev.
    #[arg(long)]
    pub symbol_heads: bool,
    /// A match grows over a word and code that many of the graph's names add to another name
    /// of their label ("type IID von Willebrand disease", "SJS type 1A", where the graph has
    /// "Mucopolysaccharidosis Type IVA" and "Mucopolysaccharidosis"), with or without --dev.
    #[arg(long)]
    pub subtypes: bool,
    /// Text to tag (any input format; JSON Lines and converted PubTator keep document ids, so
    /// abbreviations defined in a document are found in all of it).
    #[arg(long)]
    pub input: PathBuf,
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Where to write the tagged text (format from the name).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the learned types and the chosen configuration as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Replace --out and --report if they exist (never one of the inputs; a link is written
    /// through).
    #[arg(long)]
    pub overwrite: bool,
}

/// Runs `hilgen dictionary`.
pub fn run(mut args: DictionaryArgs) -> Result<()> {
    let mut inputs = vec![args.shots.as_path(), args.input.as_path()];
    inputs.extend(args.dev.as_deref());
    let outs = [("--out", Some(args.out.as_path())), ("--report", args.report.as_deref())];
    let resolved = crate::output::check_optional(&outs, &inputs, args.overwrite)?;
    if let [Some(out), report] = &resolved[..] {
        (args.out, args.report) = (out.clone(), report.clone());
    }
    let kb = Kb::open(&args.kb).with_context(|| format!("opening the knowledge index {}", args.kb.display()))?;
    let read = |p: &PathBuf| args.input_args.read(p);
    let shots = read(&args.shots)?;
    let types = TypeMap::learn(&kb, &shots);
    anyhow::ensure!(
        types.linked > 0,
        "none of the {} mentions of {} links to a concept of {}: nothing to learn the entity types from",
        types.unlinked,
        args.shots.display(),
        args.kb.display()
    );
    eprintln!(
        "entity types learned from {} linked mentions ({} unlinked): {:?}",
        types.linked,
        types.unlinked,
        types.labels()
    );
    let config = DictionaryConfig {
        context_typing: args.context_typing,
        coordination: args.coordination,
        salts: args.salts,
        spelling: args.spelling,
        suffixes: args.suffixes,
        corpus_abbreviations: args.corpus_abbreviations,
        modifiers: args.modifiers,
        generic_names: args.generic_names,
        local_definitions: args.local_definitions,
        prefixes: args.prefixes,
        drop_gene_symbols: args.drop_gene_symbols,
        drop_co_types: args.drop_co_types,
        shot_names: args.shot_names,
        symbol_heads: args.symbol_heads,
        subtypes: args.subtypes,
        ..DictionaryConfig::default()
    };
    let dev = args.dev.as_ref().map(read).transpose()?;
    let evidence = match args.adjective_evidence {
        true => {
            let labelled = [shots.as_slice(), dev.as_deref().unwrap_or_default()].concat();
            let e = hilgen_dictionary::adjective_evidence(&kb, &types, &config, &labelled)?;
            eprintln!(
                "adjective evidence: {} added matches are whole mentions, {} outside mentions: adjectives {}",
                e.whole,
                e.outside,
                match e.decision() {
                    Some(true) => "on",
                    Some(false) => "off",
                    None if dev.is_some() => "left to dev",
                    None => "off (undecided)",
                }
            );
            Some(e)
        }
        false => None,
    };
    let config = DictionaryConfig {
        adjectives: args.adjectives || evidence.and_then(|e| e.decision()).unwrap_or(false),
        ..config
    };
    let (dictionary, selection) = match dev {
        Some(dev) => {
            // The recall options as given; dev decides context typing and coordination (under a
            // guard, the flags' values first: they are the default it keeps).
            let both = |flag: bool| if args.guard_p.is_some() { vec![flag, !flag] } else { vec![false, true] };
            let grid = Grid {
                context_typing: both(config.context_typing),
                coordination: both(config.coordination),
                abbreviations: if args.keep_abbreviations { vec![true] } else { vec![true, false] },
                ..Grid::fixed(&config)
            };
            let grid = match &evidence {
                Some(e) => e.apply(grid),
                None => grid,
            };
            let guard = args.guard_p.map(|p| Guard { test: args.guard_test, ..Guard::new(p, args.guard_seed) });
            let (d, mut s) = select_guarded(&kb, &types, &dev, &grid, guard.as_ref())?;
            s.adjective_evidence = evidence;
            eprintln!("chosen on dev ({} configurations tried): dev F1 {:.4}", s.tried, s.dev_f1);
            if let Some(o) = &s.overruled {
                eprintln!(
                    "the flags' options stay (--guard-p {}): dev's best scored {:.4}, p = {:.3}",
                    guard.map_or(0.0, |g| g.p),
                    o.dev_f1,
                    o.p_value
                );
            }
            (d, Some(s))
        }
        None => (Dictionary::build(&kb, &types, config)?, None),
    };
    eprintln!(
        "{} names; dropped types {:?}; context typing {}; coordination {}",
        dictionary.len(),
        dictionary.config.dropped_types.iter().collect::<Vec<_>>(),
        if dictionary.config.context_typing { "on" } else { "off" },
        if dictionary.config.coordination { "on" } else { "off" }
    );
    let text = read(&args.input)?;
    let tagged = dictionary.tag(&text);
    input::write(&args.out, &tagged, Format::Auto)?;
    if let Some(p) = &args.report {
        let v = serde_json::json!({
            "types": types,
            "config": dictionary.config,
            "selection": selection,
            "adjective_evidence": evidence,
        });
        input::write_text(p, &serde_json::to_string_pretty(&v)?)?;
    }
    let mentions: usize = tagged.iter().map(|s| s.mentions().map_or(0, |m| m.len())).sum();
    eprintln!("tagged {} sentences ({mentions} mentions); wrote {}", tagged.len(), args.out.display());
    Ok(())
}
