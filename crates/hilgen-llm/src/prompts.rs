//! Prompt templates, shipped as files in `prompts/` and compiled in; a folder of files with the
//! same names (`LlmConfig::prompts_dir`) replaces them one by one. Templates use minijinja
//! (Jinja2) syntax; [`Prompts::write_defaults`] writes the shipped ones out for editing.

use crate::error::{LlmError, Result};
use serde::Serialize;
use std::path::Path;

/// The shipped templates: `(file name, text)`.
pub const DEFAULTS: [(&str, &str); 8] = [
    ("system.j2", include_str!("../prompts/system.j2")),
    ("hilgen_generate.j2", include_str!("../prompts/hilgen_generate.j2")),
    ("hilgen_to_iob.j2", include_str!("../prompts/hilgen_to_iob.j2")),
    ("hilgen_to_entities.j2", include_str!("../prompts/hilgen_to_entities.j2")),
    ("grounded_generate.j2", include_str!("../prompts/grounded_generate.j2")),
    ("zerogen_generate.j2", include_str!("../prompts/zerogen_generate.j2")),
    ("tag_zero_shot.j2", include_str!("../prompts/tag_zero_shot.j2")),
    ("tag_entities.j2", include_str!("../prompts/tag_entities.j2")),
];

/// A set of templates.
pub struct Prompts {
    env: minijinja::Environment<'static>,
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts").finish_non_exhaustive()
    }
}

impl Prompts {
    /// The shipped templates, with those found in `overrides` (same file names) replacing them.
    pub fn load(overrides: Option<&Path>) -> Result<Prompts> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_trim_blocks(false);
        for (name, text) in DEFAULTS {
            let text = match overrides.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(p) => {
                    tracing::info!(template = %p.display(), "prompt override");
                    std::fs::read_to_string(&p).map_err(|e| LlmError::io(&p, e))?
                }
                None => text.to_string(),
            };
            env.add_template_owned(name, text)
                .map_err(|e| LlmError::Template { name: name.to_string(), message: e.to_string() })?;
        }
        Ok(Prompts { env })
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
    }
}
