//! Files the provider configuration names (a CA bundle, shared config and
//! credentials files, a web identity token): each must be a regular file under a size cap, and is read
//! off the protocol thread within a timeout, so that a FIFO, a device or a
//! directory gives a diagnostic instead of a hung or exhausted provider.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most a CA bundle may hold: the whole Mozilla root store is about 250 KiB.
pub const CA_BUNDLE_CAP: u64 = 1 << 20;
/// The most a shared config or credentials file may hold.
pub const SHARED_FILE_CAP: u64 = 10 << 20;
/// The most a web identity token file may hold (an OIDC token is a few KiB).
pub const TOKEN_FILE_CAP: u64 = 64 << 10;

/// Why a named file was refused.
#[derive(Debug, thiserror::Error)]
#[error("{argument} {}: {reason}", path.display())]
pub struct FileError {
    /// The provider argument that named the file.
    pub argument: &'static str,
    pub path: PathBuf,
    pub reason: String,
}

/// Reads `path` whole if it is a regular file of at most `cap` bytes, within `timeout`.
pub async fn read_bounded(argument: &'static str, path: &Path, cap: u64, timeout: Duration) -> Result<Vec<u8>, FileError> {
    let error = |reason: String| FileError { argument, path: path.to_path_buf(), reason };
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || read_regular(&owned, cap));
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(result)) => result.map_err(error),
        Ok(Err(_)) => Err(error("the read was abandoned".into())),
        Err(_) => Err(error(format!("not read within {} s", timeout.as_secs_f32()))),
    }
}

fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Opening a FIFO for reading blocks until a writer comes; non-blocking, it opens
    // at once and is then refused as not a regular file.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(|e| e.to_string())?;
    let metadata = file.metadata().map_err(|e| e.to_string())?;
    if !metadata.is_file() {
        return Err(format!("not a regular file (a {})", kind(&metadata)));
    }
    if metadata.len() > cap {
        return Err(format!("{} bytes, more than the {} this argument allows", metadata.len(), cap));
    }
    let mut contents = Vec::with_capacity(metadata.len() as usize);
    // The cap holds even if the file grows while it is read.
    file.take(cap + 1).read_to_end(&mut contents).map_err(|e| e.to_string())?;
    if contents.len() as u64 > cap {
        return Err(format!("grew past the {cap} bytes this argument allows while it was read"));
    }
    Ok(contents)
}

fn kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = metadata.file_type();
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "device";
        }
        if t.is_socket() {
            return "socket";
        }
    }
    if metadata.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_secs(5);

    /// A FIFO at `path` (for the unit tests of every reader of named files).
    pub(crate) fn make_fifo(path: &Path) {
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    }

    #[tokio::test]
    async fn only_regular_files_under_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        make_fifo(&fifo);
        let small = dir.path().join("small.pem");
        std::fs::write(&small, b"0123456789").unwrap();
        let cases: [(&Path, &str); 4] = [
            (&fifo, "not a regular file (a FIFO)"),
            (Path::new("/dev/zero"), "not a regular file (a device)"),
            (dir.path(), "not a regular file (a directory)"),
            (&small, "10 bytes, more than the 4 this argument allows"),
        ];
        for (path, reason) in cases {
            let err = read_bounded("custom_ca_bundle", path, 4, WAIT).await.unwrap_err();
            assert_eq!(err.reason, reason, "{}", path.display());
            assert!(err.to_string().starts_with("custom_ca_bundle "), "{err}");
        }
        assert_eq!(read_bounded("custom_ca_bundle", &small, 10, WAIT).await.unwrap(), b"0123456789");
        let missing = read_bounded("custom_ca_bundle", &dir.path().join("missing"), 10, WAIT).await.unwrap_err();
        assert!(missing.reason.contains("No such file"), "{missing}");
    }
}
