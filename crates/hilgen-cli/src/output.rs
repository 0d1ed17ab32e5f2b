//! The one rule of every command that writes files: an output is never one of the command's
//! inputs (the same file, also through links), an existing output is replaced only with
//! `--overwrite`, and its folder must exist; all checked before any work is done. An output
//! that is a symbolic link is written through: the file it points to is replaced and the link
//! stays.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Where writing `out` lands: `out` itself, or the target of the link `out` is.
pub fn resolve(out: &Path) -> Result<PathBuf> {
    let Ok(meta) = std::fs::symlink_metadata(out) else { return Ok(out.to_path_buf()) };
    if !meta.file_type().is_symlink() {
        return Ok(out.to_path_buf());
    }
    if let Ok(target) = std::fs::canonicalize(out) {
        return Ok(target);
    }
    // A dangling link: its target, relative to the link's folder.
    let target = std::fs::read_link(out).with_context(|| format!("reading the link {}", out.display()))?;
    Ok(out.parent().map_or(target.clone(), |p| p.join(&target)))
}

/// The same file (device and inode) when both exist.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Checks `outputs` (as given by the user, with the flag that named each) against `inputs`
/// and `--overwrite`; returns the paths to write (links resolved), in order.
pub fn check(outputs: &[(&str, &Path)], inputs: &[&Path], overwrite: bool) -> Result<Vec<PathBuf>> {
    let mut resolved = Vec::new();
    for (i, &(flag, out)) in outputs.iter().enumerate() {
        let target = resolve(out)?;
        if let Some(input) = inputs.iter().find(|i| same_file(out, i)) {
            bail!("{flag} {} is the input {}; write the output elsewhere", out.display(), input.display());
        }
        if let Some(((other, _), _)) =
            outputs[..i].iter().zip(&resolved).find(|((_, o), r)| same_file(o, out) || **r == target)
        {
            bail!("{flag} {} is also the output of {other}", out.display());
        }
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => bail!("{flag} {} is a folder; give a file name", out.display()),
            Ok(_) if !overwrite => bail!("{flag} {} exists; pass --overwrite to replace it", out.display()),
            _ => {}
        }
        let folder = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !folder.is_dir() {
            bail!("{flag} {}: the folder {} does not exist", out.display(), folder.display());
        }
        resolved.push(target);
    }
    Ok(resolved)
}

/// [`check`] for a command with one output: the path to write.
pub fn check_one(flag: &str, out: &Path, inputs: &[&Path], overwrite: bool) -> Result<PathBuf> {
    Ok(check(&[(flag, out)], inputs, overwrite)?.remove(0))
}

/// [`check`] for outputs that may be absent (`None` entries are skipped); returns the
/// resolved paths in the same places.
pub fn check_optional(
    outputs: &[(&str, Option<&Path>)],
    inputs: &[&Path],
    overwrite: bool,
) -> Result<Vec<Option<PathBuf>>> {
    let given: Vec<(&str, &Path)> = outputs.iter().filter_map(|&(f, p)| p.map(|p| (f, p))).collect();
    let mut resolved = check(&given, inputs, overwrite)?.into_iter();
    Ok(outputs.iter().map(|(_, p)| p.and_then(|_| resolved.next())).collect())
}

/// Prints the client's usage summary and writes it as JSON to `summary`, if given.
pub fn llm_summary(client: &hilgen_llm::LlmClient, summary: Option<&Path>) -> Result<()> {
    let s = client.summary();
    eprintln!("{s}");
    if let Some(p) = summary {
        crate::input::write_text(p, &serde_json::to_string_pretty(&s)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_existing_outputs_links_and_missing_folders() {
        let d = tempfile::tempdir().unwrap();
        let gold = d.path().join("gold.tsv");
        std::fs::write(&gold, "a\tO\n").unwrap();
        let link = d.path().join("link.tsv");
        std::os::unix::fs::symlink(&gold, &link).unwrap();
        // The input itself, directly or through a link.
        let e = check(&[("--out", &gold)], &[&gold], true).unwrap_err().to_string();
        assert!(e.contains("is the input"), "{e}");
        let e = check(&[("--out", &link)], &[&gold], true).unwrap_err().to_string();
        assert!(e.contains("is the input"), "{e}");
        // An existing file needs --overwrite.
        let other = d.path().join("other.tsv");
        std::fs::write(&other, "x").unwrap();
        let e = check(&[("--out", &other)], &[&gold], false).unwrap_err().to_string();
        assert!(e.contains("exists; pass --overwrite"), "{e}");
        assert_eq!(check(&[("--out", &other)], &[&gold], true).unwrap(), vec![other.clone()]);
        // A link is written through (its target is replaced, the link stays).
        let to_other = d.path().join("to-other.tsv");
        std::os::unix::fs::symlink(&other, &to_other).unwrap();
        assert_eq!(
            check(&[("--out", &to_other)], &[&gold], true).unwrap(),
            vec![std::fs::canonicalize(&other).unwrap()]
        );
        // A missing folder, and two outputs that are one file.
        let e = check(&[("--scores", &d.path().join("no/s.jsonl"))], &[], false).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
        let new = d.path().join("new.tsv");
        let e = check(&[("--out", &new), ("--scores", &new)], &[], false).unwrap_err().to_string();
        assert!(e.contains("also the output of --out"), "{e}");
    }
}
