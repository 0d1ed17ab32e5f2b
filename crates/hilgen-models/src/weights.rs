//! Loading Hugging Face `model.safetensors` weights into a var store, whatever the naming
//! variant: with or without a `bert.`, `roberta.` or `mpnet.` prefix, legacy `gamma`/`beta`
//! LayerNorm names; unused tensors (pooler, MLM/NSP heads, `position_ids`) are ignored; missing ones and shape
//! mismatches are errors naming the tensor and the file.

use crate::error::{ModelError, Result};
use std::collections::HashMap;
use std::path::Path;
use tch::{nn::VarStore, Kind, Tensor};

/// The canonical (prefix-free, modern) name of a checkpoint tensor, or `None` when unused.
pub fn canonical_name(name: &str) -> Option<String> {
    let name = ["bert.", "roberta.", "mpnet."].iter().find_map(|p| name.strip_prefix(p)).unwrap_or(name);
    if name.starts_with("pooler.")
        || name.starts_with("cls.")
        || name.starts_with("lm_head.")
        || name.ends_with("position_ids")
        || name.starts_with("classifier.")
    {
        return None;
    }
    let name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias");
    Some(name)
}

/// Copies the encoder tensors of `file` into the variables of `vs` under `prefix`
/// (`"bert."`, `"roberta."` or `"mpnet."`). Returns the number of tensors loaded.
pub fn load_encoder(vs: &VarStore, prefix: &str, file: &Path) -> Result<usize> {
    if !file.exists() {
        return Err(ModelError::folder(file, "no model.safetensors (the encoder weights) here"));
    }
    let tensors = Tensor::read_safetensors(file)
        .map_err(|e| ModelError::folder(file, format!("cannot read safetensors: {e}")))?;
    let by_name: HashMap<String, Tensor> =
        tensors.into_iter().filter_map(|(n, t)| canonical_name(&n).map(|c| (c, t))).collect();
    let mut vars = vs.variables();
    let mut names: Vec<String> = vars.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
    names.sort();
    let missing: Vec<&str> = names.iter().map(|n| &n[prefix.len()..]).filter(|n| !by_name.contains_key(*n)).collect();
    if !missing.is_empty() {
        return Err(ModelError::folder(
            file,
            format!(
                "{} encoder tensors are missing, e.g. {}",
                missing.len(),
                missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    tch::no_grad(|| -> Result<()> {
        for name in &names {
            let src = &by_name[&name[prefix.len()..]];
            let dst = vars.get_mut(name).expect("listed above");
            if src.size() != dst.size() {
                return Err(ModelError::folder(
                    file,
                    format!(
                        "tensor `{}` has shape {:?} in the file but the config gives {:?}",
                        &name[prefix.len()..],
                        src.size(),
                        dst.size()
                    ),
                ));
            }
            dst.copy_(&src.to_kind(Kind::Float).to_device(dst.device()));
        }
        Ok(())
    })?;
    Ok(names.len())
}

/// Copies a token classifier head (`PREFIX.weight`, `PREFIX.bias`, as transformers names it)
/// from `file` into the variables of `vs` under `prefix` (`"classifier."`).
pub fn load_classifier(vs: &VarStore, prefix: &str, file: &Path) -> Result<()> {
    let tensors = Tensor::read_safetensors(file)
        .map_err(|e| ModelError::folder(file, format!("cannot read safetensors: {e}")))?;
    let mut vars = vs.variables();
    tch::no_grad(|| -> Result<()> {
        for part in ["weight", "bias"] {
            let name = format!("{prefix}{part}");
            let src = tensors
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| ModelError::folder(file, format!("no tensor `{name}` (the classifier head)")))?;
            let dst = vars.get_mut(&name).expect("the tagger has a classifier");
            if src.size() != dst.size() {
                return Err(ModelError::folder(
                    file,
                    format!("tensor `{name}` has shape {:?} but the labels give {:?}", src.size(), dst.size()),
                ));
            }
            dst.copy_(&src.to_kind(Kind::Float).to_device(dst.device()));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::canonical_name;

    #[test]
    fn names() {
        assert_eq!(canonical_name("bert.embeddings.LayerNorm.gamma").unwrap(), "embeddings.LayerNorm.weight");
        assert_eq!(
            canonical_name("encoder.layer.0.output.LayerNorm.beta").unwrap(),
            "encoder.layer.0.output.LayerNorm.bias"
        );
        assert!(canonical_name("bert.pooler.dense.weight").is_none());
        assert!(canonical_name("cls.predictions.bias").is_none());
        assert!(canonical_name("embeddings.position_ids").is_none());
        assert_eq!(
            canonical_name("mpnet.encoder.relative_attention_bias.weight").unwrap(),
            "encoder.relative_attention_bias.weight"
        );
        assert_eq!(
            canonical_name("roberta.embeddings.word_embeddings.weight").unwrap(),
            "embeddings.word_embeddings.weight"
        );
        assert!(canonical_name("lm_head.dense.weight").is_none());
    }
}
