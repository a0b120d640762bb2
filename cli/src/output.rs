//! Writing an output folder all at once: files go to a temporary sibling folder that is
//! renamed into place at the end, so a failure leaves no partial output behind. A process
//! killed while writing leaves its temporary folder, and one killed between the two
//! renames of [`Staging::commit`] leaves the previous version aside: [`recover`] (run by
//! every new [`Staging`]) removes the first and puts the second back.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A folder being written; becomes `target` on [`Staging::commit`], vanishes if dropped.
pub struct Staging {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

/// The name of `target`'s folder, and its parent ("." for a bare name).
fn parts(target: &Path) -> (String, PathBuf) {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (name, parent)
}

/// Cleans up after writers of `target` that were killed: a temporary folder
/// `.NAME.tmp-PID` of a process that no longer runs is removed; a `.NAME.tmp-PID.old` (the
/// previous version, moved aside just before the new one was renamed into place) is put
/// back when `target` is missing, else removed. Needs /proc to tell which processes run;
/// without it nothing is touched.
pub fn recover(target: &Path) -> io::Result<()> {
    let (name, parent) = parts(target);
    let proc = Path::new("/proc");
    let Ok(entries) = fs::read_dir(&parent) else { return Ok(()) };
    if !proc.join("self").exists() {
        return Ok(());
    }
    let prefix = format!(".{name}.tmp-");
    let mut stale: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            let pid = file.strip_prefix(&prefix)?;
            let pid = pid.strip_suffix(".old").unwrap_or(pid);
            let running = pid.parse::<u32>().ok()? == std::process::id() || proc.join(pid).exists();
            (!running).then(|| e.path())
        })
        .collect();
    stale.sort();
    for path in stale {
        if path.extension().is_some_and(|x| x == "old") && !target.exists() {
            fs::rename(&path, target)?;
        } else {
            fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

impl Staging {
    /// Starts writing what will become `target` (after [`recover`]).
    pub fn new(target: &Path) -> io::Result<Self> {
        let (name, parent) = parts(target);
        fs::create_dir_all(&parent)?;
        recover(target)?;
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
