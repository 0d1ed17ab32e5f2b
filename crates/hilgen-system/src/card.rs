//! The model card (`README.md`) of a kept system, in Hugging Face's format: YAML metadata
//! (`library_name`, `pipeline_tag`, `tags`, `datasets`, and a `model-index` with the dev and
//! test figures) between `---` lines, then what the system is, how it was made and chosen, how
//! it scored, how to use it and its known limits.

use crate::spec::{Component, Manifest, Prf};

/// A YAML scalar: a JSON string is a valid YAML double-quoted scalar.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn metrics(out: &mut String, prf: &Prf, split: &str) {
    for (kind, name, value) in
        [("precision", "precision", prf.precision), ("recall", "recall", prf.recall), ("f1", "F1", prf.f1)]
    {
        out.push_str(&format!(
            "          - type: {kind}\n            name: {}\n            value: {}\n",
            q(&format!("{split} entity-level micro {name} (%)")),
            pct(value)
        ));
    }
}

/// The members of a component, as Markdown list lines.
fn parts(c: &Component, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match c {
        Component::Dictionary { dictionary, kb } => out.push_str(&format!(
            "{pad}- dictionary: `{}` over the knowledge index `{}` (sha256 `{}`)\n",
            dictionary.display(),
            kb.file.display(),
            &kb.sha256[..kb.sha256.len().min(12)]
        )),
        Component::Tagger { model, min_confidence, skip_symbols } => {
            let mut what = format!("{pad}- tagger: the model folder `{}`", model.display());
            if let Some(p) = min_confidence {
                what.push_str(&format!(", its entities whose every word's tag has probability at least {p}"));
            }
            if *skip_symbols {
                what.push_str(
                    ", without one-word entities shaped like symbols (\"RB1\", \"G6PD\": left to the dictionary)",
                );
            }
            out.push_str(&what);
            out.push('\n');
        }
        Component::Dann { model } => {
            out.push_str(&format!("{pad}- DANN: nearest neighbours over the emissions of `{}`\n", model.display()))
        }
        Component::Llm { settings } => {
            out.push_str(&format!("{pad}- LLM zero-shot tagger: `{}`\n", settings.display()))
        }
        Component::Ensemble { method, weights, members } => {
            out.push_str(&format!("{pad}- {method} of {} systems (weights {weights:?}):\n", members.len()));
            for m in members {
                out.push_str(&format!("{pad}  - `{}`\n", m.name));
                parts(&m.component, indent + 2, out);
            }
        }
    }
}

/// The card of a kept system.
pub fn render(m: &Manifest) -> String {
    let c = &m.card;
    let mut y = String::from("---\n");
    y.push_str("language:\n  - en\nlicense: other\nlibrary_name: hilgen\npipeline_tag: token-classification\n");
    y.push_str(
        "tags:\n  - token-classification\n  - named-entity-recognition\n  - biomedical\n  - few-shot\n  - hilgen\n",
    );
    if let Some(d) = &c.dataset {
        y.push_str(&format!("datasets:\n  - {}\n", q(d)));
    }
    if c.dev.is_some() || c.test.is_some() {
        let name = if c.name.is_empty() { "hilgen kept system" } else { &c.name };
        y.push_str(&format!("model-index:\n  - name: {}\n    results:\n", q(name)));
        let dataset = c.dataset.clone().unwrap_or_else(|| "user data".into());
        for (split, prf) in [("dev", &c.dev), ("test", &c.test)] {
            let Some(prf) = prf else { continue };
            y.push_str(
                "      - task:\n          type: token-classification\n          name: Named entity recognition\n",
            );
            y.push_str(&format!(
                "        dataset:\n          type: {}\n          name: {}\n          split: {split}\n        metrics:\n",
                q(&dataset),
                q(&dataset)
            ));
            metrics(&mut y, prf, split);
        }
    }
    y.push_str("---\n\n");
    let mut b = y;
    let title = if c.name.is_empty() { m.description.clone() } else { c.name.clone() };
    b.push_str(&format!("# {title}\n\n"));
    b.push_str(&format!(
        "A few-shot biomedical named-entity tagger made by [hilgen](https://example.invalid/hilgen) {}: **{}**. \
         Entity types: {}.\n\n",
        m.hilgen,
        m.description,
        m.types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    ));
    b.push_str(
        "## Use\n\n```sh\nhilgen tag --model THIS_FOLDER --input abstracts.pubtator --out tagged.pubtator\n```\n\n",
    );
    b.push_str(
        "Input: raw text, CoNLL/TSV, JSON Lines or PubTator; abbreviations defined in a document apply to all of it. \
                The folder is read only by hilgen (its models are Hugging Face token-classification folders that \
                `transformers` also loads, without the dictionary or the ensemble rule).\n\n",
    );
    b.push_str("## What it is\n\n");
    parts(&m.system, 0, &mut b);
    b.push_str("\n## How it was made\n\n");
    let mut facts: Vec<String> = Vec::new();
    if let Some(d) = &c.dataset {
        facts.push(format!("Dataset: {d}"));
    }
    facts.push(format!("Labelled examples: K = {} per entity type ({} sentences)", c.k, c.shots));
    if !c.seeds.is_empty() {
        let seed = c.seed.map(|s| format!("; this system: seed {s}")).unwrap_or_default();
        facts.push(format!("Seeds of the run: {:?}{seed}", c.seeds));
    }
    if let Some(e) = &c.encoder {
        facts.push(format!("Encoder: {e}"));
    }
    if !c.knowledge.is_empty() {
        facts.push(format!("Knowledge sources: {}", c.knowledge.join("; ")));
    }
    facts.push(format!("LLM: {}", c.llm.clone().unwrap_or_else(|| "none".into())));
    for f in facts {
        b.push_str(&format!("- {f}\n"));
    }
    b.push_str("\n## How it was chosen\n\n");
    b.push_str(&format!("- Protocol: {} ({} labelled dev sentences)\n", c.protocol, c.dev_sentences));
    if !c.chosen.is_empty() {
        b.push_str(&format!("- {}\n", c.chosen));
    }
    b.push_str("\n## Scores\n\n");
    if c.dev.is_none() && c.test.is_none() {
        b.push_str("Not scored: no labelled dev or test split was given. Score it with `hilgen tag` then `hilgen eval` on labelled data of your own.\n");
    } else {
        b.push_str("Entity-level micro precision, recall and F1 in % (seqeval's default mode); the test split was scored once and never used to choose.\n\n");
        b.push_str("| split | P | R | F1 |\n|---|---:|---:|---:|\n");
        for (split, prf) in [("dev", &c.dev), ("test", &c.test)] {
            if let Some(p) = prf {
                let n = if split == "test" && c.test_sentences > 0 {
                    format!(" ({} sentences)", c.test_sentences)
                } else {
                    String::new()
                };
                b.push_str(&format!("| {split}{n} | {} | {} | {} |\n", pct(p.precision), pct(p.recall), pct(p.f1)));
            }
        }
    }
    b.push_str("\n## Known limits\n\n");
    let mut limits = c.limits.clone();
    limits.push("Made from a few labelled examples: expect errors on entity types and text unlike them.".into());
    for l in limits {
        b.push_str(&format!("- {l}\n"));
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{CardInfo, FORMAT};

    #[test]
    fn the_card_carries_the_figures_in_its_metadata() {
        let m = Manifest {
            format: FORMAT,
            hilgen: "0.1.0".into(),
            types: vec!["Chemical".into(), "Disease".into()],
            description: "union of dictionary + tagger/distant".into(),
            system: Component::Tagger { model: "models/distant".into(), min_confidence: None, skip_symbols: false },
            card: CardInfo {
                name: "bc5cdr seed 1".into(),
                dataset: Some("bc5cdr".into()),
                k: 5,
                protocol: "dev split (the first 1000 sentences)".into(),
                dev: Some(Prf { precision: 0.8, recall: 0.7, f1: 0.746 }),
                test: Some(Prf { precision: 0.81, recall: 0.73, f1: 0.769 }),
                ..CardInfo::default()
            },
        };
        let text = render(&m);
        assert!(text.starts_with("---\n"));
        let front = text.split("---\n").nth(1).unwrap();
        assert!(front.contains("pipeline_tag: token-classification"));
        assert!(front.contains("split: test") && front.contains("value: 76.9"), "{front}");
        assert!(text.contains("| test | 81.0 | 73.0 | 76.9 |"));
    }
}
