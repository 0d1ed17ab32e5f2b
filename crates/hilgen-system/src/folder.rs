//! Reading and writing system folders: [`load`] (a kept system, or a plain model folder as its
//! tagger) and [`assemble`] (a kept system from the files a run made).

use crate::ensemble::EnsembleSystem;
use crate::neural::{Head, Model, Neural, RunOptions};
use crate::spec::{CardInfo, Component, Manifest, Member, Pinned, CARD_FILE, FORMAT, SYSTEM_FILE};
use crate::{DictionarySystem, LlmSettings, LlmSystem, Result, System, SystemError, Tag};
use hilgen_metrics::ensemble::Method;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Loads the system of `folder`: a kept system (`system.json` of [`FORMAT`]), or a model folder
/// (`config.json`: a `hilgen train` folder, a run's `best/model`, any Hugging Face
/// token-classification folder) as its tagger, or as DANN where its old-style `system.json`
/// says so. `head` picks the head of a single-model folder (refused for a kept dictionary or
/// ensemble, whose members were chosen together).
pub fn load(folder: &Path, head: Option<Head>, options: &RunOptions) -> Result<Loaded> {
    let meta = std::fs::metadata(folder).map_err(|e| SystemError::io(folder, e))?;
    if !meta.is_dir() {
        return Err(SystemError::folder(folder, "not a folder; give a kept system or a model folder"));
    }
    let file = folder.join(SYSTEM_FILE);
    let value: Option<serde_json::Value> = match std::fs::read_to_string(&file) {
        Ok(text) => Some(
            serde_json::from_str(&text)
                .map_err(|e| SystemError::folder(&file, format!("line {}: not JSON: {e}", e.line())))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(SystemError::io(&file, e)),
    };
    let mut cache = HashMap::new();
    match value {
        Some(v) if v.get("format").is_some() => {
            let manifest = read_manifest(&file, v)?;
            let component = match (head, &manifest.system) {
                (None, c) => c.clone(),
                (Some(Head::Tagger), Component::Tagger { model, .. } | Component::Dann { model }) => {
                    Component::Tagger { model: model.clone(), min_confidence: None, skip_symbols: false }
                }
                (Some(Head::Dann), Component::Tagger { model, .. } | Component::Dann { model }) => {
                    Component::Dann { model: model.clone() }
                }
                (Some(h), _) => {
                    return Err(SystemError::folder(
                        folder,
                        format!(
                            "is a kept {} (chosen as a whole); --system {} applies to a single model folder",
                            manifest.description,
                            h.name()
                        ),
                    ))
                }
            };
            let system = build(folder, &component, options, &mut cache)?;
            let description = match head {
                Some(h) => h.name().to_string(),
                None => manifest.description.clone(),
            };
            Ok(Loaded { system, description, manifest: Some(manifest) })
        }
        other => {
            // A model folder; an old `system.json` ({"system": "dann"}) names its head.
            let named = other.as_ref().and_then(|v| v["system"].as_str()).map(|s| {
                if s == "dann" {
                    Head::Dann
                } else {
                    Head::Tagger
                }
            });
            if !folder.join("config.json").is_file() {
                return Err(SystemError::folder(
                    folder,
                    "is neither a kept system (system.json) nor a model folder (config.json)",
                ));
            }
            let head = head.or(named).unwrap_or(Head::Tagger);
            let component = match head {
                Head::Tagger => {
                    Component::Tagger { model: PathBuf::from("."), min_confidence: None, skip_symbols: false }
                }
                Head::Dann => Component::Dann { model: PathBuf::from(".") },
            };
            let system = build(folder, &component, options, &mut cache)?;
            Ok(Loaded { system, description: format!("{} of {}", head.name(), folder.display()), manifest: None })
        }
    }
}

/// A system loaded from its folder.
pub struct Loaded {
    /// The system.
    pub system: System,
    /// What it is: the kept system's description (`union of dictionary + tagger/distant`), or
    /// `tagger of FOLDER`.
    pub description: String,
    /// The kept system's `system.json` (none for a plain model folder).
    pub manifest: Option<Manifest>,
}

impl Tag for Loaded {
    fn describe(&self) -> String {
        self.description.clone()
    }
    fn types(&self) -> Vec<String> {
        match &self.manifest {
            Some(m) => m.types.clone(),
            None => self.system.types(),
        }
    }
    fn tag(&self, sentences: &[hilgen_corpus::Sentence]) -> Result<Vec<hilgen_corpus::Sentence>> {
        self.system.tag(sentences)
    }
}

fn read_manifest(file: &Path, v: serde_json::Value) -> Result<Manifest> {
    let format = v["format"].as_u64().unwrap_or(0);
    if format != u64::from(FORMAT) {
        return Err(SystemError::folder(
            file,
            format!("system format {format}; this hilgen ({}) reads format {FORMAT}", env!("CARGO_PKG_VERSION")),
        ));
    }
    serde_json::from_value(v).map_err(|e| SystemError::folder(file, format!("not a kept system: {e}")))
}

/// A path of `system.json` inside the folder: relative, never leaving it (a kept system is
/// self-contained; a path elsewhere is refused, not followed).
fn inside(folder: &Path, rel: &Path) -> Result<PathBuf> {
    use std::path::Component as C;
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, C::Normal(_) | C::CurDir)) {
        return Err(SystemError::folder(
            folder.join(SYSTEM_FILE),
            format!("`{}` is not a path inside the folder (relative, without `..`)", rel.display()),
        ));
    }
    Ok(folder.join(rel))
}

fn build(
    folder: &Path,
    component: &Component,
    options: &RunOptions,
    cache: &mut HashMap<PathBuf, Rc<Neural>>,
) -> Result<System> {
    let mut model = |model: &Path, head: Head| -> Result<System> {
        let path = inside(folder, model)?;
        let neural = match cache.get(&path) {
            Some(n) => n.clone(),
            None => {
                let n = Rc::new(Neural::load(&path, options)?);
                cache.insert(path.clone(), n.clone());
                n
            }
        };
        if head == Head::Dann && !neural.has_dann() {
            return Err(SystemError::folder(
                &path,
                "has no DANN support set (dann.json and dann.safetensors); use its tagger",
            ));
        }
        Ok(System::Model(Model { neural, head, min_confidence: None, skip_symbols: false }))
    };
    Ok(match component {
        Component::Dictionary { dictionary, kb } => {
            inside(folder, dictionary)?;
            inside(folder, &kb.file)?;
            System::Dictionary(Box::new(DictionarySystem::load(folder, dictionary, kb)?))
        }
        Component::Tagger { model: m, min_confidence, skip_symbols } => match model(m, Head::Tagger)? {
            System::Model(mut t) => {
                if let Some(p) = *min_confidence {
                    if !(0.0..=1.0).contains(&p) {
                        return Err(SystemError::folder(
                            folder.join(SYSTEM_FILE),
                            format!("a tagger's min_confidence is a probability in [0, 1]; got {p}"),
                        ));
                    }
                    t.min_confidence = Some(p as f32);
                }
                t.skip_symbols = *skip_symbols;
                System::Model(t)
            }
            other => other,
        },
        Component::Dann { model: m } => model(m, Head::Dann)?,
        Component::Llm { settings } => System::Llm(Box::new(LlmSystem::load(&inside(folder, settings)?)?)),
        Component::Ensemble { method, weights, members } => {
            if members.is_empty() || weights.len() != members.len() {
                return Err(SystemError::folder(
                    folder.join(SYSTEM_FILE),
                    format!("an ensemble needs members and one weight each; {} and {}", members.len(), weights.len()),
                ));
            }
            let mut loaded = Vec::with_capacity(members.len());
            for m in members {
                loaded.push((m.name.clone(), build(folder, &m.component, options, cache)?));
            }
            System::Ensemble(EnsembleSystem { members: loaded, method: method.clone(), weights: weights.clone() })
        }
    })
}

/// Where a member of a kept system comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A saved dictionary (`dictionary.json`) over a knowledge index (`kb.hkb`).
    Dictionary {
        /// The saved dictionary.
        dictionary: PathBuf,
        /// The index.
        kb: PathBuf,
    },
    /// A head of a model folder.
    Model {
        /// The folder.
        folder: PathBuf,
        /// The head.
        head: Head,
        /// For the tagger head: keep only its entities whose every word's tag has at least
        /// this probability (a back-off member).
        min_confidence: Option<f64>,
        /// For the tagger head: leave out its one-word entities shaped like symbols (see
        /// [`Component::Tagger`]'s `skip_symbols`).
        skip_symbols: bool,
    },
    /// The LLM tagger.
    Llm(Box<LlmSettings>),
}

/// What a kept system is made of.
#[derive(Debug, Clone)]
pub struct Assembly {
    /// The members with their names in the run (`dictionary`, `tagger/distant`, ...).
    pub members: Vec<(String, Source)>,
    /// How several members combine, with each one's weight (`None` for a single member).
    pub rule: Option<(Method, Vec<f64>)>,
    /// The entity types.
    pub types: Vec<String>,
    /// What its model card says.
    pub card: CardInfo,
}

/// Hard-links (or copies, where links are not possible) `src` to `dest`.
fn link(src: &Path, dest: &Path) -> Result<()> {
    if std::fs::hard_link(src, dest).is_err() {
        std::fs::copy(src, dest).map_err(|e| SystemError::io(src, e))?;
    }
    Ok(())
}

/// Writes the kept system `assembly` into `dest` (a new or empty folder; write it beside its
/// place and rename it there for an all-or-nothing result): its files linked in (the index
/// pinned by sha256), `system.json` and the model card `README.md`.
pub fn assemble(dest: &Path, assembly: &Assembly) -> Result<Manifest> {
    if assembly.members.is_empty() || (assembly.members.len() > 1) != assembly.rule.is_some() {
        return Err(SystemError::Invalid("a kept system is one member, or several with a rule".into()));
    }
    if let Some((_, w)) = &assembly.rule {
        if w.len() != assembly.members.len() {
            return Err(SystemError::Invalid("one weight per member".into()));
        }
    }
    std::fs::create_dir_all(dest).map_err(|e| SystemError::io(dest, e))?;
    let mut folders: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut members = Vec::new();
    for (name, source) in &assembly.members {
        let component = match source {
            Source::Dictionary { dictionary, kb } => {
                let dir = dest.join("dictionary");
                std::fs::create_dir_all(&dir).map_err(|e| SystemError::io(&dir, e))?;
                link(dictionary, &dir.join("dictionary.json"))?;
                link(kb, &dir.join(hilgen_kb::INDEX_FILE))?;
                let kb_rel = PathBuf::from("dictionary").join(hilgen_kb::INDEX_FILE);
                Component::Dictionary {
                    dictionary: "dictionary/dictionary.json".into(),
                    kb: Pinned { sha256: crate::sha256_file(&dest.join(&kb_rel))?, file: kb_rel },
                }
            }
            Source::Model { folder, head, min_confidence, skip_symbols } => {
                let rel = match folders.get(folder) {
                    Some(rel) => rel.clone(),
                    None => {
                        let leaf = name.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("model");
                        let mut rel = PathBuf::from("models").join(leaf);
                        let mut n = 2;
                        while folders.values().any(|r| r == &rel) {
                            rel = PathBuf::from("models").join(format!("{leaf}-{n}"));
                            n += 1;
                        }
                        link_tree(folder, &dest.join(&rel))?;
                        folders.insert(folder.clone(), rel.clone());
                        rel
                    }
                };
                match head {
                    Head::Tagger => {
                        Component::Tagger { model: rel, min_confidence: *min_confidence, skip_symbols: *skip_symbols }
                    }
                    Head::Dann => Component::Dann { model: rel },
                }
            }
            Source::Llm(settings) => {
                let p = dest.join("llm.json");
                let text = serde_json::to_string_pretty(settings).expect("settings serialize");
                std::fs::write(&p, text).map_err(|e| SystemError::io(&p, e))?;
                Component::Llm { settings: "llm.json".into() }
            }
        };
        members.push(Member { name: name.clone(), component });
    }
    let (system, description) = match &assembly.rule {
        None => (members.remove(0).component, assembly.members[0].0.clone()),
        Some((method, weights)) => {
            let names: Vec<&str> = assembly.members.iter().map(|(n, _)| n.as_str()).collect();
            let description = format!("{method} of {}", names.join(" + "));
            (Component::Ensemble { method: method.clone(), weights: weights.clone(), members }, description)
        }
    };
    let manifest = Manifest {
        format: FORMAT,
        hilgen: env!("CARGO_PKG_VERSION").to_string(),
        types: assembly.types.clone(),
        description,
        system,
        card: assembly.card.clone(),
    };
    let p = dest.join(SYSTEM_FILE);
    std::fs::write(&p, serde_json::to_string_pretty(&manifest).expect("manifests serialize"))
        .map_err(|e| SystemError::io(&p, e))?;
    let p = dest.join(CARD_FILE);
    std::fs::write(&p, crate::card::render(&manifest)).map_err(|e| SystemError::io(&p, e))?;
    Ok(manifest)
}

fn link_tree(src: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest).map_err(|e| SystemError::io(dest, e))?;
    for e in std::fs::read_dir(src).map_err(|e| SystemError::io(src, e))? {
        let e = e.map_err(|e| SystemError::io(src, e))?;
        let t = e.file_type().map_err(|err| SystemError::io(e.path(), err))?;
        if t.is_dir() {
            link_tree(&e.path(), &dest.join(e.file_name()))?;
        } else if t.is_file() {
            link(&e.path(), &dest.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// Copies the kept system `src` into `dest` (files linked where possible), adding `note` to
/// how it was chosen (its `system.json` and model card rewritten, not linked).
pub fn copy(src: &Path, dest: &Path, note: &str) -> Result<Manifest> {
    let file = src.join(SYSTEM_FILE);
    let text = std::fs::read_to_string(&file).map_err(|e| SystemError::io(&file, e))?;
    let value = serde_json::from_str(&text).map_err(|e| SystemError::folder(&file, format!("not JSON: {e}")))?;
    let mut manifest = read_manifest(&file, value)?;
    link_tree(src, dest)?;
    manifest.card.chosen = format!("{} {note}", manifest.card.chosen).trim().to_string();
    for (name, text) in [
        (SYSTEM_FILE, serde_json::to_string_pretty(&manifest).expect("manifests serialize")),
        (CARD_FILE, crate::card::render(&manifest)),
    ] {
        let p = dest.join(name);
        // A new file, not the linked one (which the source shares).
        let _ = std::fs::remove_file(&p);
        std::fs::write(&p, text).map_err(|e| SystemError::io(&p, e))?;
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(folder: &Path, head: Option<Head>) -> String {
        match load(folder, head, &RunOptions::default()) {
            Ok(_) => panic!("{} loaded", folder.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn folders_that_are_no_system_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(err(&d.join("missing"), None).contains("missing"));
        let file = d.join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(err(&file, None).contains("not a folder"));
        let empty = d.join("empty");
        std::fs::create_dir(&empty).unwrap();
        let e = err(&empty, None);
        assert!(e.contains("neither a kept system") && e.contains("config.json"), "{e}");
        let newer = d.join("newer");
        std::fs::create_dir(&newer).unwrap();
        std::fs::write(newer.join(SYSTEM_FILE), r#"{"format": 9, "system": {}}"#).unwrap();
        let e = err(&newer, None);
        assert!(e.contains("system.json") && e.contains("format 9") && e.contains("reads format 1"), "{e}");
        std::fs::write(newer.join(SYSTEM_FILE), "{not json").unwrap();
        assert!(err(&newer, None).contains("line 1: not JSON"));
    }

    #[test]
    fn a_head_applies_to_a_single_model_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let manifest = Manifest {
            format: FORMAT,
            hilgen: "0".into(),
            types: vec!["Disease".into()],
            description: "dictionary".into(),
            system: Component::Dictionary {
                dictionary: "dictionary/dictionary.json".into(),
                kb: Pinned { file: "dictionary/kb.hkb".into(), sha256: "00".into() },
            },
            card: CardInfo::default(),
        };
        std::fs::write(d.join(SYSTEM_FILE), serde_json::to_string(&manifest).unwrap()).unwrap();
        let e = err(d, Some(Head::Dann));
        assert!(e.contains("kept dictionary") && e.contains("--system dann"), "{e}");
        // Without a head: the dictionary's files are read, and their absence named.
        assert!(err(d, None).contains("dictionary.json"));
        // Paths leave the folder: refused, not followed.
        for bad in ["/etc/passwd", "../other/kb.hkb", ""] {
            let mut m = manifest.clone();
            m.system = Component::Dictionary {
                dictionary: "dictionary/dictionary.json".into(),
                kb: Pinned { file: bad.into(), sha256: "00".into() },
            };
            std::fs::write(d.join(SYSTEM_FILE), serde_json::to_string(&m).unwrap()).unwrap();
            let e = err(d, None);
            assert!(e.contains("not a path inside the folder"), "{bad}: {e}");
        }
    }

    #[test]
    fn assembling_needs_one_member_or_a_rule() {
        let dir = tempfile::tempdir().unwrap();
        let m = |n: &str| {
            (
                n.to_string(),
                Source::Model {
                    folder: dir.path().into(),
                    head: Head::Tagger,
                    min_confidence: None,
                    skip_symbols: false,
                },
            )
        };
        let bad = [
            Assembly { members: vec![], rule: None, types: vec![], card: CardInfo::default() },
            Assembly { members: vec![m("a"), m("b")], rule: None, types: vec![], card: CardInfo::default() },
            Assembly {
                members: vec![m("a"), m("b")],
                rule: Some((Method::Union, vec![1.0])),
                types: vec![],
                card: CardInfo::default(),
            },
        ];
        for a in bad {
            assert!(assemble(&dir.path().join("out"), &a).is_err());
        }
    }
}
