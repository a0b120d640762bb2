//! Writing an output folder all at once: files go to a temporary sibling folder that is
//! renamed into place at the end, so a failure leaves no partial output behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A folder being written; becomes `target` on [`Staging::commit`], vanishes if dropped.
pub struct Staging {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl Staging {
    /// Starts writing what will become `target`.
    pub fn new(target: &Path) -> io::Result<Self> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            fs::remove_dir_all(&temp)?;
        }
        fs::create_dir(&temp)?;
        Ok(Staging { target: target.to_path_buf(), temp, committed: false })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Moves the folder into place, replacing an older one of the same name.
    pub fn commit(mut self) -> io::Result<()> {
        if self.target.exists() {
            let old = self.temp.with_extension("old");
            fs::rename(&self.target, &old)?;
            fs::rename(&self.temp, &self.target)?;
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&self.temp, &self.target)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json(path: &Path, value: &serde_json::Value) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    fs::write(path, text + "\n")
}
