//! Prompt templates, shipped as files in `prompts/` and compiled in; a folder of files with the
//! same names (`LlmConfig::prompts_dir`) replaces them one by one. Templates use minijinja
//! (Jinja2) syntax; [`Prompts::write_defaults`] writes the shipped ones out for editing.

use crate::error::{LlmError, Result};
use serde::Serialize;
use std::path::Path;

/// The shipped templates: `(file name, text)`.
pub const DEFAULTS: [(&str, &str); 8] = [
    ("system.j2", include_str!("../../prompts/system.j2")),
    ("hilgen_generate.j2", include_str!("../../prompts/hilgen_generate.j2")),
    ("hilgen_to_iob.j2", include_str!("../../prompts/hilgen_to_iob.j2")),
    ("hilgen_to_entities.j2", include_str!("../../prompts/hilgen_to_entities.j2")),
    ("grounded_generate.j2", include_str!("../../prompts/grounded_generate.j2")),
    ("zerogen_generate.j2", include_str!("../../prompts/zerogen_generate.j2")),
    ("tag_zero_shot.j2", include_str!("../../prompts/tag_zero_shot.j2")),
    ("tag_entities.j2", include_str!("../../prompts/tag_entities.j2")),
];

/// A set of templates.
pub struct Prompts {
    env: minijinja::Environment<'static>,
    texts: std::collections::BTreeMap<String, String>,
}

/// A generation task, for [`templates_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// HILGEN: generate, then annotate in a second turn.
    Hilgen,
    /// Grounded generation (names used verbatim, labels by matching).
    Grounded,
    /// ZeroGen: class-conditioned generation.
    ZeroGen,
    /// The LLM as a zero-shot tagger.
    Tag,
}

/// The templates a task renders under an annotation format (what a cached result depends on).
pub fn templates_for(task: Task, annotation: crate::config::Annotation) -> Vec<&'static str> {
    use crate::config::Annotation::{Entities, Tokens};
    let mut out = vec!["system.j2"];
    out.extend(match (task, annotation) {
        (Task::Hilgen, Entities) => ["hilgen_generate.j2", "hilgen_to_entities.j2"].as_slice(),
        (Task::Hilgen, Tokens) => ["hilgen_generate.j2", "hilgen_to_iob.j2"].as_slice(),
        (Task::Grounded, _) => ["grounded_generate.j2"].as_slice(),
        (Task::ZeroGen, _) => ["zerogen_generate.j2"].as_slice(),
        (Task::Tag, Entities) => ["tag_entities.j2"].as_slice(),
        (Task::Tag, Tokens) => ["tag_zero_shot.j2"].as_slice(),
    });
    out
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts").finish_non_exhaustive()
    }
}

impl Prompts {
    /// The shipped templates, with those found in `overrides` (same file names) replacing them.
    pub fn load(overrides: Option<&Path>) -> Result<Prompts> {
        let mut texts = std::collections::BTreeMap::new();
        for (name, text) in DEFAULTS {
            let text = match overrides.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(p) => {
                    tracing::info!(template = %p.display(), "prompt override");
                    std::fs::read_to_string(&p).map_err(|e| LlmError::io(&p, e))?
                }
                None => text.to_string(),
            };
            texts.insert(name.to_string(), text);
        }
        Prompts::from_texts(texts)
    }

    /// The shipped templates with `texts` (file name -> template text) replacing them by name;
    /// a name that is not a shipped template is an error.
    pub fn from_texts(texts: std::collections::BTreeMap<String, String>) -> Result<Prompts> {
        let mut all: std::collections::BTreeMap<String, String> =
            DEFAULTS.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        for (name, text) in texts {
            if !all.contains_key(&name) {
                let known: Vec<&str> = DEFAULTS.iter().map(|d| d.0).collect();
                return Err(LlmError::Template {
                    name,
                    message: format!("not a template name; expected one of {}", known.join(", ")),
                });
            }
            all.insert(name, text);
        }
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_trim_blocks(false);
        for (name, text) in &all {
            env.add_template_owned(name.clone(), text.clone())
                .map_err(|e| LlmError::Template { name: name.to_string(), message: e.to_string() })?;
        }
        Ok(Prompts { env, texts: all })
    }

    /// The text of template `name`, if there is one.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.texts.get(name).map(String::as_str)
    }

    /// The texts of `names` (those that exist), by name.
    pub fn texts_of(&self, names: &[&str]) -> std::collections::BTreeMap<String, String> {
        names.iter().filter_map(|n| self.texts.get(*n).map(|t| (n.to_string(), t.clone()))).collect()
    }

    /// Renders template `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: impl Serialize) -> Result<String> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| LlmError::Template { name: name.into(), message: e.to_string() })?;
        let s = t.render(ctx).map_err(|e| LlmError::Template { name: name.into(), message: format!("{e:#}") })?;
        Ok(s.trim().to_string())
    }

    /// Writes the shipped templates into `dir` (existing files are kept).
    pub fn write_defaults(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|e| LlmError::io(dir, e))?;
        let mut written = Vec::new();
        for (name, text) in DEFAULTS {
            let p = dir.join(name);
            if !p.exists() {
                std::fs::write(&p, text).map_err(|e| LlmError::io(&p, e))?;
                written.push(p);
            }
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shipped_templates_render_and_overrides_apply() {
        let p = Prompts::load(None).unwrap();
        let s = p
            .render(
                "hilgen_generate.j2",
                json!({"sentence": "Aspirin caused bleeding.", "n": 10, "relation": "related concepts",
                       "types": ["Chemical", "Disease"],
                       "entities": [{"text": "Aspirin", "type": "Chemical", "hints": ["Ibuprofen", "Naproxen"]}]}),
            )
            .unwrap();
        assert!(s.contains("Ibuprofen, Naproxen") && s.contains("10 new sentences"), "{s}");
        let e = p.render("tag_zero_shot.j2", json!({"types": ["Disease"]})).unwrap_err();
        assert!(e.to_string().contains("tag_zero_shot.j2"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("system.j2"), "Custom {{ 1 + 1 }}").unwrap();
        let p = Prompts::load(Some(dir.path())).unwrap();
        assert_eq!(p.render("system.j2", json!({})).unwrap(), "Custom 2");
        // Every shipped template but the overridden one is written out.
        assert_eq!(Prompts::write_defaults(dir.path()).unwrap().len(), DEFAULTS.len() - 1);
        // The annotation turn lists the sentences it asks about.
        let s = p
            .render(
                "hilgen_to_entities.j2",
                json!({"n": 2, "types": ["Chemical"], "sentences": ["Aspirin helped.", "Heparin did not."]}),
            )
            .unwrap();
        assert!(s.contains("1. Aspirin helped.") && s.contains("2. Heparin did not."), "{s}");
        let s = p.render("tag_entities.j2", json!({"types": ["Disease"], "sentence": "Fever rose ."})).unwrap();
        assert!(s.contains("Fever rose .") && s.contains("\"entities\""), "{s}");
        // Texts in, the same texts out; unknown names refused.
        let texts = p.texts_of(&templates_for(Task::Tag, crate::config::Annotation::Entities));
        assert_eq!(texts.keys().collect::<Vec<_>>(), ["system.j2", "tag_entities.j2"]);
        assert_eq!(texts["system.j2"], "Custom {{ 1 + 1 }}");
        let q = Prompts::from_texts(texts).unwrap();
        assert_eq!(q.render("system.j2", json!({})).unwrap(), "Custom 2");
        let e = Prompts::from_texts([("nope.j2".to_string(), String::new())].into()).unwrap_err();
        assert!(e.to_string().contains("nope.j2"), "{e}");
    }
}
