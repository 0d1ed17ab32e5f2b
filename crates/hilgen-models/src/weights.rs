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
    // Room for heads and pooler weights the tagger does not use.
    crate::limits::check_file(file, crate::limits::weights_bytes(vs, 4))?;
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

/// Whether weights of this kind can be loaded (converted to the variable's kind).
fn floating(kind: Kind) -> bool {
    matches!(kind, Kind::Float | Kind::BFloat16 | Kind::Half | Kind::Double)
}

/// Loads `file`, written by [`crate::Tagger::save`], into `vs` exactly: every variable must be
/// in the file with the same shape and a floating-point type, and every tensor of the file must
/// be a variable (a config that does not fit its weights is an error naming the tensor, never
/// a silent broadcast or a partial load).
pub fn load_exact(vs: &VarStore, file: &Path) -> Result<()> {
    crate::limits::check_file(file, crate::limits::weights_bytes(vs, 1))?;
    let tensors = Tensor::read_safetensors(file).map_err(|e| {
        ModelError::folder(file, format!("cannot read safetensors (truncated or not a safetensors file?): {e}"))
    })?;
    let mut vars = vs.variables();
    let mut seen = std::collections::BTreeSet::new();
    for (name, src) in &tensors {
        let Some(dst) = vars.get(name) else {
            return Err(ModelError::folder(
                file,
                format!(
                    "tensor `{name}` is not part of the model tagger.json describes (another architecture or size?)"
                ),
            ));
        };
        if src.size() != dst.size() {
            return Err(ModelError::folder(
                file,
                format!("tensor `{name}` has shape {:?} but tagger.json gives {:?}", src.size(), dst.size()),
            ));
        }
        if !floating(src.kind()) {
            return Err(ModelError::folder(file, format!("tensor `{name}` is {:?}, not floating point", src.kind())));
        }
        seen.insert(name.clone());
    }
    let mut missing: Vec<&String> = vars.keys().filter(|k| !seen.contains(*k)).collect();
    missing.sort();
    if let Some(first) = missing.first() {
        return Err(ModelError::folder(
            file,
            format!("{} tensors of the model are missing, e.g. `{first}`", missing.len()),
        ));
    }
    tch::no_grad(|| {
        for (name, src) in &tensors {
            let dst = vars.get_mut(name).expect("checked above");
            dst.copy_(&src.to_kind(dst.kind()).to_device(dst.device()));
        }
    });
    Ok(())
}

/// Copies a token classifier head (`PREFIX.weight`, `PREFIX.bias`, as transformers names it)
/// from `file` into the variables of `vs` under `prefix` (`"classifier."`).
pub fn load_classifier(vs: &VarStore, prefix: &str, file: &Path) -> Result<()> {
    crate::limits::check_file(file, crate::limits::weights_bytes(vs, 4))?;
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
            if !floating(src.kind()) {
                return Err(ModelError::folder(
                    file,
                    format!("tensor `{name}` is {:?}, not floating point", src.kind()),
                ));
            }
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
    use super::*;
    use tch::Device;

    /// Weights that do not fit the model are refused, naming the tensor; nothing broadcasts.
    #[test]
    fn load_exact_refuses_what_does_not_fit() {
        let vs = VarStore::new(Device::Cpu);
        let root = vs.root();
        let _w = (&root / "c").var("weight", &[2, 3], tch::nn::Init::Const(0.5));
        let _b = (&root / "c").var("bias", &[2], tch::nn::Init::Const(0.0));
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, tensors: &[(&str, Tensor)]| {
            let p = dir.path().join(name);
            Tensor::write_safetensors(tensors, &p).unwrap();
            p
        };
        let f = |x: &[f32], shape: &[i64]| Tensor::from_slice(x).view(shape);
        let good = write("good", &[("c.weight", f(&[1.0; 6], &[2, 3])), ("c.bias", f(&[2.0, 3.0], &[2]))]);
        load_exact(&vs, &good).unwrap();
        assert_eq!(vs.variables()["c.bias"].double_value(&[1]), 3.0);
        let err = |p: &Path| load_exact(&vs, p).unwrap_err().to_string();
        let broadcast = write("broadcast", &[("c.weight", f(&[1.0; 3], &[1, 3])), ("c.bias", f(&[2.0, 3.0], &[2]))]);
        assert!(err(&broadcast).contains("`c.weight` has shape [1, 3] but tagger.json gives [2, 3]"));
        let extra = write(
            "extra",
            &[("c.weight", f(&[1.0; 6], &[2, 3])), ("c.bias", f(&[2.0, 3.0], &[2])), ("d.weight", f(&[1.0], &[1]))],
        );
        assert!(err(&extra).contains("`d.weight` is not part of the model"));
        let int = write("int", &[("c.weight", f(&[1.0; 6], &[2, 3])), ("c.bias", Tensor::from_slice(&[2i64, 3]))]);
        assert!(err(&int).contains("not floating point"));
        let missing = write("missing", &[("c.weight", f(&[1.0; 6], &[2, 3]))]);
        assert!(err(&missing).contains("1 tensors of the model are missing, e.g. `c.bias`"));
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(err(&zero).contains("not a regular file"));
    }

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
