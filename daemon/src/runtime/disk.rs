//! The store's disk: free space on its file system, and the guard that makes issuing refuse
//! (with a clear error and one journal alert per episode) when it falls below
//! `[store] min_free_mb`, rather than failing in the middle of a write.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Free bytes on the file system holding `dir` (for an unprivileged process).
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path contains a NUL byte"))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // The field types differ by platform (u32 on some 32-bit targets).
    #[allow(clippy::useless_conversion)]
    let (avail, frsize) = (u64::from(st.f_bavail), u64::from(st.f_frsize));
    Ok(avail * frsize)
}

/// `85 MiB`, `1.5 GiB`.
pub fn human_bytes(b: u64) -> String {
    const GIB: u64 = 1024 * 1024 * 1024;
    if b >= GIB {
        format!("{:.1} GiB", b as f64 / GIB as f64)
    } else {
        format!("{} MiB", b / (1024 * 1024))
    }
}

/// Why issuing is refused: the store's disk is nearly full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the disk of the store is nearly full ({free} free at {dir}, at least {min} needed): \
     no new tickets until maintenance frees space; calling goes on"
)]
pub struct DiskFull {
    pub free: String,
    pub min: String,
    pub dir: String,
}

/// Checks free space before each ticket. Cheap (one statvfs); cloneable.
#[derive(Debug, Clone)]
pub struct DiskGuard {
    dir: PathBuf,
    min_free: u64,
    alerted: Arc<AtomicBool>,
}

impl DiskGuard {
    pub fn new(dir: PathBuf, min_free_mb: u32) -> DiskGuard {
        DiskGuard {
            dir,
            min_free: u64::from(min_free_mb) * 1024 * 1024,
            alerted: Arc::default(),
        }
    }

    /// Ok when there is room; the refusal otherwise. Alerts the journal once per episode.
    pub fn check(&self) -> Result<(), DiskFull> {
        let free = match free_bytes(&self.dir) {
            Ok(free) => free,
            Err(e) => {
                // Cannot tell: let the store's own errors speak rather than refuse blindly.
                tracing::debug!(dir = %self.dir.display(), "free space unknown: {e}");
                return Ok(());
            }
        };
        if free >= self.min_free {
            if self.alerted.swap(false, Ordering::Relaxed) {
                tracing::info!(free = %human_bytes(free), "disk space recovered: issuing again");
            }
            return Ok(());
        }
        let full = DiskFull {
            free: human_bytes(free),
            min: human_bytes(self.min_free),
            dir: self.dir.display().to_string(),
        };
        if !self.alerted.swap(true, Ordering::Relaxed) {
            tracing::error!(
                free = %full.free,
                min = %full.min,
                "ALERT: {full}"
            );
        }
        Err(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_below_the_threshold_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        assert!(free > 0);
        let roomy = DiskGuard::new(dir.path().into(), 1);
        assert_eq!(roomy.check(), Ok(()));
        // A threshold above what is free: refused, with numbers an operator can act on.
        let mb = u32::try_from(free / (1024 * 1024) + 10).unwrap_or(u32::MAX);
        let full = DiskGuard::new(dir.path().into(), mb).check().unwrap_err();
        let text = full.to_string();
        assert!(
            text.contains("nearly full") && text.contains("free at"),
            "{text}"
        );
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }
}
