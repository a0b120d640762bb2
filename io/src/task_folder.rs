//! A task folder (docs/formats.md, "Task folder"): `config.json` (the
//! constants and the `loss` object of a case folder) and the data of K trials: `x.npy`
//! (T, K, n_in) and the loss's files (`target.npy` with an optional `mask.npy`, or
//! `labels.npy`, or `G.npy`), optionally `I_ext.npy` (T, K, N) and `W_mask.npy` (N, N).
//! Float files may be float32 or float64 (each its own); they are held in f32, the
//! training model's precision, and every value must be finite there.

use crate::case::{self, one_line, FolderError, LossFile, CONFIG};
use crate::npy::{self, Values};
use spikegrad::Config;
use spikegrad_train::model::Objective;
use spikegrad_train::task::Task;
use std::path::{Path, PathBuf};

/// A loaded, checked task folder: the trials ([`Task`]) and what the folder says of
/// them.
#[derive(Debug, Clone)]
pub struct TaskData {
    /// The folder.
    pub dir: PathBuf,
    /// The loss as `config.json` gives it, with the cross-entropy window and the class
    /// count filled in.
    pub loss: LossFile,
    /// N when the data fix it (`I_ext.npy` or `W_mask.npy`), with the file that does.
    pub n_fixed: Option<(usize, &'static str)>,
    /// Whether `config.json` names the step map; [`Task::step`] is then the one named,
    /// else the case folder's default (the Euler step), and a fresh training run chooses
    /// its own ([`PhaseStep::TRAINING`](spikegrad_train::phase_step::PhaseStep::TRAINING)).
    pub step_named: bool,
    /// The trials.
    pub task: Task,
}

/// A configuration as `config.json` writes it, for messages.
pub fn describe(config: &Config) -> String {
    format!(
        "h = {}, tau = {}, tau_s = {}, gate = {}, delta = {}",
        config.h,
        config.tau,
        config.tau_s,
        config.gate.name(),
        config.gate.delta()
    )
}

/// An error about `file` of `dir`.
fn at(dir: &Path, file: &str, message: impl std::fmt::Display) -> FolderError {
    FolderError::new(dir, file, message)
}

/// A float array of `dir` in f32, with its shape; every value finite in f32.
fn read_floats(dir: &Path, file: &str) -> Result<(Vec<usize>, Vec<f32>), FolderError> {
    let array = npy::read(&dir.join(file)).map_err(|e| at(dir, file, e))?;
    let values = match array.values {
        Values::F32(v) => v,
        Values::F64(v) => v.iter().map(|&x| x as f32).collect(),
    };
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(at(
            dir,
            file,
            format!(
                "element {} is not finite in float32: every value must be",
                case::multi_index(i, &array.shape)
            ),
        ));
    }
    Ok((array.shape, values))
}

/// Checks that the data files of the task fit in memory before reading them: reading
/// holds a file's bytes and its values at once.
fn check_memory(dir: &Path, files: &[&str]) -> Result<(), FolderError> {
    let Some(available) = spikegrad_train::memory::available_memory() else { return Ok(()) };
    let sizes: Vec<(&str, u64)> = files
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok().map(|m| (*f, m.len())))
        .collect();
    let total: u64 = sizes.iter().map(|s| s.1).sum();
    if total.saturating_mul(2) > available {
        let largest = sizes.iter().max_by_key(|s| s.1).map_or("x.npy", |s| s.0);
        return Err(at(
            dir,
            largest,
            format!(
                "the task is too large for memory: its data files hold {:.2} GB, loading them \
                 needs about {:.2} GB and {:.2} GB are available (train on fewer trials)",
                total as f64 / 1e9,
                2.0 * total as f64 / 1e9,
                available as f64 / 1e9
            ),
        ));
    }
    Ok(())
}

/// Loads the task folder `dir`; an error names the file and the fault.
pub fn load(dir: &Path) -> Result<TaskData, FolderError> {
    if !dir.is_dir() {
        return Err(at(dir, "", "not a folder (a task folder: config.json and x.npy)"));
    }
    let settings = read_settings(dir)?;
    let mut loss = settings.loss;
    let loss_files: &[&str] = match loss.kind.as_str() {
        "mse" => &["target.npy", "mask.npy"],
        "linear" => &["G.npy"],
        _ => &["labels.npy"],
    };
    let mut files = vec!["x.npy", "I_ext.npy", "W_mask.npy"];
    files.extend_from_slice(loss_files);
    check_memory(dir, &files)?;

    let (shape, x) = read_floats(dir, "x.npy")?;
    let [t, k, n_in] = match shape[..] {
        [t, k, n_in] if t > 0 && k > 0 && n_in > 0 => [t, k, n_in],
        _ => {
            return Err(at(
                dir,
                "x.npy",
                format!("shape {shape:?}, expected (T, K, n_in) with every dimension at least 1"),
            ))
        }
    };
    let data = read_loss_data(dir, &mut loss, t, k)?;
    let NetworkFiles { i_ext, w_mask, n_fixed } = read_network_files(dir, t, k)?;
    let task = Task {
        config: settings.config,
        step: settings.neuron.step(),
        t,
        k,
        n_in,
        n_out: data.n_out,
        x,
        target: data.target,
        mask: data.mask,
        labels: data.labels,
        i_ext,
        w_mask,
        objective: data.objective,
        rate_penalty: loss.rate_penalty,
    };
    Ok(TaskData { dir: dir.to_path_buf(), loss, n_fixed, step_named: settings.step_named, task })
}

/// `config.json` of a task folder: a case's, with a theta neuron and shared constants.
fn read_settings(dir: &Path) -> Result<case::Settings, FolderError> {
    let settings = case::read_settings(dir).map_err(|e| e.in_folder(dir))?;
    if !settings.neuron.is_theta() {
        return Err(at(
            dir,
            CONFIG,
            format!("neuron {:?}: training supports theta networks only", settings.neuron.name()),
        ));
    }
    if let Some(file) = settings.tau_file.as_ref().or(settings.tau_s_file.as_ref()) {
        return Err(at(
            dir,
            CONFIG,
            format!(
                "names {:?} for a time constant: a task's constants are shared numbers (train \
                 them per neuron with --train-time-constants)",
                one_line(file)
            ),
        ));
    }
    Ok(settings)
}

/// The loss's data of a task folder, as [`TaskData`] holds it.
struct LossData {
    objective: Objective,
    n_out: usize,
    target: Vec<f32>,
    mask: Vec<f32>,
    labels: Vec<usize>,
}

/// Reads the loss's files of a task of `t` steps and `k` trials: `target.npy` (and
/// `mask.npy`, all ones when absent), `G.npy`, or `labels.npy`; for the cross-entropy,
/// fills in `loss`'s window (the whole trial by default) and class count.
fn read_loss_data(
    dir: &Path,
    loss: &mut LossFile,
    t: usize,
    k: usize,
) -> Result<LossData, FolderError> {
    let sources = format!("T = {t}, K = {k} from x.npy");
    let readout = |file: &str| -> Result<(usize, Vec<f32>), FolderError> {
        let (shape, values) = read_floats(dir, file)?;
        match shape[..] {
            [a, b, n_out] if a == t && b == k && n_out > 0 => Ok((n_out, values)),
            _ => Err(at(
                dir,
                file,
                format!("shape {shape:?}, expected (T, K, n_out) with {sources} and n_out >= 1"),
            )),
        }
    };
    match loss.kind.as_str() {
        "mse" => {
            let (n_out, target) = readout("target.npy")?;
            let mask = if dir.join("mask.npy").exists() {
                let (mask_out, values) = readout("mask.npy")?;
                if mask_out != n_out {
                    return Err(at(
                        dir,
                        "mask.npy",
                        format!("has {mask_out} channels, target.npy {n_out}: they must match"),
                    ));
                }
                if let Some(i) = values.iter().position(|m| !(0.0..=1.0).contains(m)) {
                    let index = case::multi_index(i, &[t, k, n_out]);
                    return Err(at(
                        dir,
                        "mask.npy",
                        format!("element {index} is {}: the mask must lie in [0, 1]", values[i]),
                    ));
                }
                values
            } else {
                vec![1.0; target.len()]
            };
            Ok(LossData { objective: Objective::Mse, n_out, target, mask, labels: Vec::new() })
        }
        "linear" => {
            let (n_out, target) = readout("G.npy")?;
            Ok(LossData {
                objective: Objective::Linear,
                n_out,
                target,
                mask: Vec::new(),
                labels: Vec::new(),
            })
        }
        _ => {
            let (labels, classes) = read_labels(dir, loss, k, &sources)?;
            // A task folder's window defaults to the whole trial.
            loss.from_step = Some(loss.from_step.unwrap_or(0));
            loss.to_step = Some(loss.to_step.unwrap_or(t));
            let (from_step, to_step) =
                loss.checked_window(Some(t), "x.npy").map_err(|e| e.in_folder(dir))?;
            loss.classes = Some(classes);
            let objective = Objective::CrossEntropy { from_step, to_step };
            Ok(LossData { objective, n_out: classes, target: Vec::new(), mask: Vec::new(), labels })
        }
    }
}

/// `labels.npy` of `k` trials, each a class in 0..classes (`loss.classes`, or one more
/// than the largest label, at least 2), with the class count.
fn read_labels(
    dir: &Path,
    loss: &LossFile,
    k: usize,
    sources: &str,
) -> Result<(Vec<usize>, usize), FolderError> {
    let file = "labels.npy";
    let (shape, raw) = npy::read_integers(&dir.join(file)).map_err(|e| at(dir, file, e))?;
    if shape != [k] {
        return Err(at(dir, file, format!("shape {shape:?}, expected (K,) = [{k}] ({sources})")));
    }
    let largest = raw.iter().copied().max().unwrap_or(0);
    let classes = match loss.classes {
        Some(c) => c,
        None => usize::try_from(largest).map_or(0, |l| l + 1).max(2),
    };
    let mut labels = Vec::with_capacity(k);
    for (i, &label) in raw.iter().enumerate() {
        match usize::try_from(label) {
            Ok(label) if label < classes => labels.push(label),
            _ => {
                let origin =
                    if loss.classes.is_some() { " (loss.classes of config.json)" } else { "" };
                return Err(at(
                    dir,
                    file,
                    format!(
                        "element [{i}] is {label}: a label must be a class in 0..{classes}{origin}"
                    ),
                ));
            }
        }
    }
    Ok((labels, classes))
}

/// The optional files of a task folder about the network, as [`TaskData`] holds them.
struct NetworkFiles {
    i_ext: Vec<f32>,
    w_mask: Option<Vec<f32>>,
    n_fixed: Option<(usize, &'static str)>,
}

/// `I_ext.npy` (T, K, N) and `W_mask.npy` (N, N), where present, with the N they fix and
/// the file that fixes it.
fn read_network_files(dir: &Path, t: usize, k: usize) -> Result<NetworkFiles, FolderError> {
    let sources = format!("T = {t}, K = {k} from x.npy");
    let mut n_fixed: Option<(usize, &'static str)> = None;
    let i_ext = if dir.join("I_ext.npy").exists() {
        let (shape, values) = read_floats(dir, "I_ext.npy")?;
        match shape[..] {
            [a, b, n] if a == t && b == k && n > 0 => n_fixed = Some((n, "I_ext.npy")),
            _ => {
                return Err(at(
                    dir,
                    "I_ext.npy",
                    format!("shape {shape:?}, expected (T, K, N) with {sources} and N >= 1"),
                ))
            }
        }
        values
    } else {
        Vec::new()
    };
    let w_mask = if dir.join("W_mask.npy").exists() {
        let (shape, values) = read_floats(dir, "W_mask.npy")?;
        let n = match (&shape[..], n_fixed) {
            (&[a, b], None) if a == b && a > 0 => a,
            (&[a, b], Some((n, _))) if a == n && b == n => n,
            _ => {
                let fixed =
                    n_fixed.map_or(String::new(), |(n, f)| format!(" with N = {n} from {f}"));
                return Err(at(
                    dir,
                    "W_mask.npy",
                    format!("shape {shape:?}, expected (N, N){fixed}"),
                ));
            }
        };
        n_fixed.get_or_insert((n, "W_mask.npy"));
        Some(values)
    } else {
        None
    };
    Ok(NetworkFiles { i_ext, w_mask, n_fixed })
}

impl TaskData {
    /// Whether another task's data can be scored by a model of this one: the same
    /// constants, input channels, readout channels and N-fixing files; an error naming
    /// the other folder's file and the difference.
    pub fn check_compatible(&self, other: &TaskData) -> Result<(), FolderError> {
        let differ = |file: &str, what: String| Err(at(&other.dir, file, what));
        let (a, b) = (&self.task.config, &other.task.config);
        if (a.h, a.tau, a.tau_s, a.gate) != (b.h, b.tau, b.tau_s, b.gate) {
            let (b, a) = (describe(b), describe(a));
            return differ(CONFIG, format!("its constants ({b}) differ from the task's ({a})"));
        }
        if self.loss.kind != other.loss.kind {
            return differ(
                CONFIG,
                format!("loss {:?} differs from the task's {:?}", other.loss.kind, self.loss.kind),
            );
        }
        if other.task.n_in != self.task.n_in {
            return differ(
                "x.npy",
                format!("n_in = {} differs from the task's {}", other.task.n_in, self.task.n_in),
            );
        }
        if other.task.n_out != self.task.n_out {
            return differ(
                CONFIG,
                format!(
                    "n_out = {} (readout channels or classes) differs from the task's {}",
                    other.task.n_out, self.task.n_out
                ),
            );
        }
        if other.n_fixed.map(|f| f.0) != self.n_fixed.map(|f| f.0)
            || other.task.w_mask != self.task.w_mask
        {
            let file = other.n_fixed.or(self.n_fixed).map_or("I_ext.npy", |f| f.1);
            return differ(
                file,
                "its I_ext.npy / W_mask.npy do not match the task's (the same N and mask)".into(),
            );
        }
        Ok(())
    }
}
