//! Loading libtorch's CUDA library, `libtorch_cuda.so`, into the process.
//!
//! A CUDA build of libtorch registers its GPU kernels from the static initialisers of
//! `libtorch_cuda.so`. Nothing in hilgen (or in `tch`) calls a function of that library, so the
//! linker's `--as-needed` drops it from the binary and CUDA stays invisible ("libtorch sees no
//! CUDA GPU") unless the library is preloaded. Linking it explicitly would only help binaries
//! built by this workspace, so instead the library is opened at run time, before the first CUDA
//! query, from the folder the process loaded `libtorch_cpu.so` from: every binary that uses
//! [`DeviceChoice::resolve`](crate::DeviceChoice::resolve) sees the GPU with no environment
//! tricks, and a CPU build of libtorch (no `libtorch_cuda.so` beside it) is left alone.
//!
//! libtorch decides once per process whether CUDA exists (the first CUDA query caches its
//! answer; `tch::manual_seed` is one), so call [`load_cuda_backend`] before any tensor work
//! when a GPU may be used. The `hilgen` binary does this at start-up.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The file name of libtorch's CUDA library.
pub const CUDA_LIBRARY: &str = "libtorch_cuda.so";

/// What [`load_cuda_backend`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaBackend {
    /// The CUDA library is loaded (from this path).
    Loaded(PathBuf),
    /// The libtorch in use has no CUDA library beside it (a CPU build).
    Absent {
        /// The folder that was searched (where `libtorch_cpu.so` came from), when known.
        libtorch_lib: Option<PathBuf>,
    },
    /// The CUDA library is there but could not be loaded (a missing CUDA runtime library, say).
    Failed {
        /// The library that failed to load.
        path: PathBuf,
        /// The dynamic loader's message.
        error: String,
    },
}

impl std::fmt::Display for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CudaBackend::Loaded(p) => write!(f, "{} is loaded", p.display()),
            CudaBackend::Absent { libtorch_lib: Some(dir) } => {
                write!(f, "{} has no {CUDA_LIBRARY} (a CPU build of libtorch; `cargo xtask setup --cuda` installs a CUDA one)", dir.display())
            }
            CudaBackend::Absent { libtorch_lib: None } => write!(f, "no {CUDA_LIBRARY} was found"),
            CudaBackend::Failed { path, error } => write!(f, "{} could not be loaded: {error}", path.display()),
        }
    }
}

/// Opens `libtorch_cuda.so` from the folder of the `libtorch_cpu.so` this process uses (once
/// per process; later calls return the first answer). Harmless with a CPU build of libtorch.
pub fn load_cuda_backend() -> &'static CudaBackend {
    static STATE: OnceLock<CudaBackend> = OnceLock::new();
    STATE.get_or_init(|| {
        let loaded = loaded_libraries();
        if let Some(cuda) = loaded.iter().find(|p| p.file_name().is_some_and(|n| n == CUDA_LIBRARY)) {
            return CudaBackend::Loaded(cuda.clone());
        }
        let dir = loaded
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == "libtorch_cpu.so" || n == "libtorch.so"))
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let state = match &dir {
            Some(dir) if dir.join(CUDA_LIBRARY).exists() => open(&dir.join(CUDA_LIBRARY)),
            Some(dir) => CudaBackend::Absent { libtorch_lib: Some(dir.clone()) },
            None => CudaBackend::Absent { libtorch_lib: None },
        };
        match &state {
            CudaBackend::Loaded(p) => tracing::debug!("loaded {}", p.display()),
            CudaBackend::Failed { .. } => tracing::warn!("{state}"),
            CudaBackend::Absent { .. } => {}
        }
        state
    })
}

/// `dlopen(path, RTLD_NOW | RTLD_GLOBAL)`.
fn open(path: &Path) -> CudaBackend {
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return CudaBackend::Failed { path: path.into(), error: "the path holds a NUL byte".into() };
    };
    // SAFETY: a valid C string; the handle is deliberately never closed (the library must stay).
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local C string or null.
        let err = unsafe { libc::dlerror() };
        let error = if err.is_null() {
            "unknown error".to_string()
        } else {
            unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
        };
        return CudaBackend::Failed { path: path.into(), error };
    }
    CudaBackend::Loaded(path.into())
}

/// The paths of the shared libraries loaded into this process, as the loader opened them
/// (symbolic links not resolved, so a folder of links is seen as that folder).
fn loaded_libraries() -> Vec<PathBuf> {
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> i32 {
        // SAFETY: the loader passes a valid info; `data` is the Vec below.
        let (info, out) = unsafe { (&*info, &mut *(data as *mut Vec<PathBuf>)) };
        if !info.dlpi_name.is_null() {
            let name = unsafe { CStr::from_ptr(info.dlpi_name) };
            if !name.to_bytes().is_empty() {
                out.push(PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(name.to_bytes())));
            }
        }
        0
    }
    let mut out: Vec<PathBuf> = Vec::new();
    // SAFETY: the callback only reads the info and pushes into `out`, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut out as *mut Vec<PathBuf> as *mut libc::c_void) };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_build_is_found_and_left_alone() {
        // Any libtorch work makes sure libtorch_cpu.so is mapped.
        let _ = tch::Tensor::from_slice(&[1.0f32]);
        let libs = loaded_libraries();
        assert!(libs.iter().any(|p| p.ends_with("libtorch_cpu.so")), "{libs:?}");
        match load_cuda_backend() {
            // This workspace's default set-up is a CPU build.
            CudaBackend::Absent { libtorch_lib: Some(dir) } => assert!(dir.join("libtorch_cpu.so").exists()),
            // A CUDA libtorch (LIBTORCH set to one) loads.
            CudaBackend::Loaded(p) => assert!(p.ends_with(CUDA_LIBRARY)),
            other => panic!("{other}"),
        }
    }
}
