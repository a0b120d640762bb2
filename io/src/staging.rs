//! Writing an output folder all at once: files go to a temporary sibling folder that is
//! renamed into place at the end, so a failure leaves no partial output behind. A process
//! killed while writing leaves its temporary folder, and one killed between the two
//! renames of [`Staging::commit`] leaves the previous version aside: [`recover`] (run by
//! every new [`Staging`]) removes the first and puts the second back.
//!
//! One rule decides which folders a writer may replace ([`check_replaceable`]): a new or
//! empty folder, or one that holds the same writer's own earlier output, recognised by the
//! [`MARKER`] file every staged folder carries. A `spikegrad run` never replaces a model or
//! a checkpoint, a training run never replaces a run's output, and nothing replaces a
//! folder that spikegrad did not write.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The file in every output folder that names its writer ([`Writer::name`], one line).
pub const MARKER: &str = ".spikegrad-output";

/// What writes an output folder: each replaces only folders that it wrote itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Writer {
    /// `spikegrad grad`: the loss and the gradients.
    Grad,
    /// `spikegrad run`: a saved model run on new inputs.
    Run,
    /// `spikegrad train xor`.
    TrainXor,
    /// `spikegrad train predict`.
    TrainPredict,
    /// `spikegrad train efficient-coding`.
    TrainEfficientCoding,
    /// `spikegrad train task`: the model, its metrics and its checkpoint.
    TrainTask,
    /// `spikegrad make-task`: a task folder.
    MakeTask,
    /// The Python module's `save_model`: a model folder.
    SaveModel,
}

impl Writer {
    /// The writer's name, as its marker file records it.
    pub fn name(self) -> &'static str {
        match self {
            Writer::Grad => "spikegrad grad",
            Writer::Run => "spikegrad run",
            Writer::TrainXor => "spikegrad train xor",
            Writer::TrainPredict => "spikegrad train predict",
            Writer::TrainEfficientCoding => "spikegrad train efficient-coding",
            Writer::TrainTask => "spikegrad train task",
            Writer::MakeTask => "spikegrad make-task",
            Writer::SaveModel => "spikegrad.save_model",
        }
    }
}

/// What an existing folder holds, for the replacement rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holding {
    /// Nothing (or no folder at all).
    Nothing,
    /// The output of a writer, by its marker's line.
    OutputOf(String),
    /// Files without a marker: the first few names, sorted.
    Foreign(Vec<String>),
}

/// Why an output folder cannot be written; each names the folder by the caller's label
/// (e.g. "--out runs/a").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputError {
    /// It exists and is a file.
    NotAFolder {
        /// The caller's name for the folder.
        label: String,
    },
    /// It exists and cannot be listed (the system's message).
    Unreadable {
        /// The caller's name for the folder.
        label: String,
        /// The system's message.
        message: String,
    },
    /// It holds another writer's output, or files spikegrad did not write.
    Occupied {
        /// The caller's name for the folder.
        label: String,
        /// What it holds.
        holding: Holding,
        /// The writer that was refused.
        writer: Writer,
    },
    /// An ancestor of it is a file.
    AncestorNotAFolder {
        /// The caller's name for the folder.
        label: String,
        /// The ancestor.
        path: PathBuf,
    },
    /// The folder its staging folder would go in cannot be written.
    NotWritable {
        /// The caller's name for the folder.
        label: String,
        /// The nearest existing ancestor.
        base: PathBuf,
        /// The system's message.
        message: String,
    },
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::NotAFolder { label } => write!(
                f,
                "{label}: exists and is not a folder; give a new folder (the output is written \
                 there whole)"
            ),
            OutputError::Unreadable { label, message } => {
                write!(f, "{label}: cannot read the folder: {message}")
            }
            OutputError::Occupied { label, holding, writer } => {
                let what = match holding {
                    Holding::Nothing => "nothing".to_string(),
                    Holding::OutputOf(name) => format!("the output of `{name}` ({MARKER})"),
                    Holding::Foreign(names) => {
                        let shown: Vec<&str> = names.iter().take(4).map(String::as_str).collect();
                        let more = if names.len() > shown.len() { ", ..." } else { "" };
                        format!(
                            "files that spikegrad did not write there ({}{more})",
                            shown.join(", ")
                        )
                    }
                };
                write!(
                    f,
                    "{label}: holds {what}; `{}` replaces only a new or empty folder or its own \
                     earlier output: give another folder",
                    writer.name()
                )
            }
            OutputError::AncestorNotAFolder { label, path } => write!(
                f,
                "{label}: {} exists and is not a folder, so the output cannot go there",
                path.display()
            ),
            OutputError::NotWritable { label, base, message } => {
                write!(f, "{label}: cannot write in {}: {message}", base.display())
            }
        }
    }
}

impl std::error::Error for OutputError {}

/// What `dir` holds; an error only if it exists and cannot be read.
fn holding(dir: &Path) -> io::Result<Holding> {
    if !dir.exists() {
        return Ok(Holding::Nothing);
    }
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(Holding::Nothing);
    }
    match fs::read_to_string(dir.join(MARKER)) {
        Ok(text) => Ok(Holding::OutputOf(text.trim().to_string())),
        Err(_) => {
            names.sort();
            Ok(Holding::Foreign(names))
        }
    }
}

/// Checks that `writer` may replace `dir` whole: it is missing, an empty folder, or a
/// folder holding `writer`'s own earlier output ([`MARKER`]). Anything else is refused,
/// naming what is there; errors start with `label` (e.g. "--out runs/a").
pub fn check_replaceable(label: &str, dir: &Path, writer: Writer) -> Result<(), OutputError> {
    let label = label.to_string();
    if dir.exists() && !dir.is_dir() {
        return Err(OutputError::NotAFolder { label });
    }
    let held = holding(dir)
        .map_err(|e| OutputError::Unreadable { label: label.clone(), message: e.to_string() })?;
    match held {
        Holding::Nothing => Ok(()),
        Holding::OutputOf(name) if name == writer.name() => Ok(()),
        holding => Err(OutputError::Occupied { label, holding, writer }),
    }
}

/// The nearest folder at or above `path` that exists (`.` for a relative path none of whose
/// ancestors exists), or the first existing ancestor that is not a folder, as an error.
fn nearest_existing(path: &Path) -> Result<PathBuf, PathBuf> {
    let mut at = Some(path);
    while let Some(p) = at {
        let p = if p.as_os_str().is_empty() { Path::new(".") } else { p };
        if p.exists() {
            return if p.is_dir() { Ok(p.to_path_buf()) } else { Err(p.to_path_buf()) };
        }
        at = p.parent();
    }
    Ok(PathBuf::from("."))
}

/// Checks, before any work and without leaving anything behind, that `writer` may write
/// `out` ([`check_replaceable`]) and that the folder its staging folder goes in can be
/// written: the nearest existing ancestor of `out`'s parent must be a folder in which a
/// probe folder can be made (and is removed at once). Missing parents are created only
/// when the output is written.
pub fn check_out(label: &str, out: &Path, writer: Writer) -> Result<(), OutputError> {
    check_replaceable(label, out, writer)?;
    let (name, parent) = parts(out);
    let base = nearest_existing(&parent)
        .map_err(|path| OutputError::AncestorNotAFolder { label: label.to_string(), path })?;
    let probe = base.join(format!(".{name}.probe-{}", std::process::id()));
    fs::create_dir(&probe).and_then(|()| fs::remove_dir(&probe)).map_err(|e| {
        OutputError::NotWritable { label: label.to_string(), base, message: e.to_string() }
    })
}

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
    /// Starts writing what will become `target` (after [`recover`]), marked as `writer`'s
    /// output ([`MARKER`]).
    pub fn new(target: &Path, writer: Writer) -> io::Result<Self> {
        let (name, parent) = parts(target);
        fs::create_dir_all(&parent)?;
        recover(target)?;
        let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if temp.exists() {
            fs::remove_dir_all(&temp)?;
        }
        fs::create_dir(&temp)?;
        let staging = Staging { target: target.to_path_buf(), temp, committed: false };
        fs::write(staging.temp.join(MARKER), format!("{}\n", writer.name()))?;
        Ok(staging)
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
