//! A sim display's folder: `NNNN.png` for every frame shown and `current.png` for the latest,
//! written beside and renamed so a reader never sees half a file.

use std::path::{Path, PathBuf};

use hallq_display::{AnyFrame, PngOptions};

/// Numbered PNGs a sim display keeps (older ones are deleted; `current.png` always stays).
pub const SIM_KEEP: u32 = 500;

pub struct SimFolder {
    pub dir: PathBuf,
    next: u32,
}

impl SimFolder {
    pub fn open(dir: PathBuf) -> std::io::Result<SimFolder> {
        std::fs::create_dir_all(&dir)?;
        let next = highest_numbered(&dir)? + 1;
        Ok(SimFolder { dir, next })
    }

    pub async fn write(&mut self, frame: &AnyFrame) -> std::io::Result<()> {
        let png = frame
            .to_png(PngOptions::default())
            .map_err(std::io::Error::other)?;
        let numbered = self.dir.join(format!("{:04}.png", self.next));
        tokio::fs::write(&numbered, &png).await?;
        let tmp = self.dir.join("current.png.tmp");
        tokio::fs::write(&tmp, &png).await?;
        tokio::fs::rename(&tmp, self.dir.join("current.png")).await?;
        if let Some(old) = self.next.checked_sub(SIM_KEEP) {
            let _ = tokio::fs::remove_file(self.dir.join(format!("{old:04}.png"))).await;
        }
        self.next += 1;
        Ok(())
    }
}

/// The highest `NNNN.png` in the folder, 0 when none.
fn highest_numbered(dir: &Path) -> std::io::Result<u32> {
    let mut highest = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        if let Some(n) = name
            .to_string_lossy()
            .strip_suffix(".png")
            .and_then(|n| n.parse::<u32>().ok())
        {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_folders_go_on_numbering() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(highest_numbered(dir.path()).unwrap(), 0);
        std::fs::write(dir.path().join("0041.png"), b"").unwrap();
        std::fs::write(dir.path().join("current.png"), b"").unwrap();
        assert_eq!(highest_numbered(dir.path()).unwrap(), 41);
    }
}
