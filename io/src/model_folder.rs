//! The model folder (DESIGN.md): what `spikegrad train` writes and `spikegrad run` and
//! `train task --init` read. A case folder without the data: `config.json` (the
//! constants, the loss the model was trained with, the task), `W U I0 O v0 s0 .npy`
//! (v0 and s0 of shape (N,): the state every trial starts from) and, where used,
//! `tau.npy tau_s.npy W_mask.npy`. A checkpoint adds `optimizer/`: Adam's moments and
//! the run's progress, so that a resumed run continues where it stopped.

use crate::case::{self, fail, multi_index, CaseError, LossFile, CONFIG};
use crate::npy::{self, Array};
use crate::staging::write_json;
use serde_json::json;
use spikegrad::{Batch, Inputs, Record, Workspace};
use spikegrad_train::adam::AdamState;
use spikegrad_train::model::Model;
use spikegrad_train::phase_step::{ModelStep, PhaseStep};
use std::path::Path;

/// A model read from a folder.
#[derive(Debug, Clone)]
pub struct SavedModel {
    /// Parameters, initial state and constants, in f32.
    pub model: Model,
    /// The loss it was trained with, if `config.json` records one.
    pub loss: Option<LossFile>,
    /// What `config.json` records of the task.
    pub task: Option<serde_json::Value>,
}

impl SavedModel {
    /// The window (from_step, to_step] of the cross-entropy loss the model was trained
    /// with: its readout's mean there gives the class. `None` for other losses.
    pub fn classification_window(&self) -> Option<(usize, usize)> {
        let loss = self.loss.as_ref().filter(|l| l.kind == "cross_entropy")?;
        Some((loss.from_step?, loss.to_step?))
    }
}

/// `time_constants` of a run's metrics.json: the range of a model's per-neuron constants
/// (`{"per_neuron": true, "tau_range_ms": [low, high], "tau_s_range_ms": [low, high]}`),
/// or null when it has shared ones.
pub fn time_constants_json(model: &Model) -> serde_json::Value {
    let range = |values: &Option<Vec<f32>>| {
        values.as_ref().map(|v| {
            let (low, high) =
                v.iter().fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
            json!([low, high])
        })
    };
    match (range(&model.tau), range(&model.tau_s)) {
        (None, None) => serde_json::Value::Null,
        (tau, tau_s) => json!({ "per_neuron": true, "tau_range_ms": tau, "tau_s_range_ms": tau_s }),
    }
}

/// The optimiser folder of a checkpoint.
pub const OPTIMIZER: &str = "optimizer";

/// Names of the optimiser's arrays, in [`spikegrad_train::Trainer::optimizer_state`]'s order.
const SLOTS: [&str; 6] = ["W", "U", "I0", "O", "ln_tau", "ln_tau_s"];

/// The `config.json` of a model folder for `model`: its constants (per-neuron ones as
/// `"tau.npy"` / `"tau_s.npy"`), the loss it was trained with (when given) and `task`.
pub fn config_json(
    model: &Model,
    loss: Option<&LossFile>,
    task: serde_json::Value,
) -> serde_json::Value {
    let c = &model.config;
    let constant = |shared: f64, per_neuron: &Option<Vec<f32>>, file: &str| match per_neuron {
        Some(_) => json!(file),
        None => json!(shared),
    };
    let mut config = json!({ "h": c.h, "tau": constant(c.tau, &model.tau, "tau.npy"),
        "tau_s": constant(c.tau_s, &model.tau_s, "tau_s.npy"), "gate": c.gate.name(),
        "delta": c.gate.delta(), "neuron": "theta", "task": task });
    // The Euler step is the default: its models' config.json stays as it was.
    if model.step != PhaseStep::Euler {
        config["step"] = json!(model.step.name());
    }
    if let Some(loss) = loss {
        config["loss"] = json!(loss);
    }
    config
}

/// Writes `model` to `dir` (which exists): `config.json` ([`config_json`]) and the
/// arrays; an error names the file that could not be written.
pub fn save(
    dir: &Path,
    model: &Model,
    loss: Option<&LossFile>,
    task: serde_json::Value,
) -> Result<(), CaseError> {
    let config = config_json(model, loss, task);
    write_json(&dir.join(CONFIG), &config).or_else(|e| fail(CONFIG, e.to_string()))?;
    let (n, n_in, n_out) = (model.n, model.n_in, model.n_out);
    let optional = [("tau", &model.tau, vec![n]), ("tau_s", &model.tau_s, vec![n])];
    let mask = [("W_mask", &model.w_mask, vec![n, n])];
    for (name, values, shape) in optional.iter().chain(&mask) {
        if let Some(values) = values {
            let file = format!("{name}.npy");
            npy::write(&dir.join(&file), shape, values).or_else(|e| fail(&file, e.to_string()))?;
        }
    }
    for (name, shape, values) in [
        ("W", vec![n, n], &model.w),
        ("U", vec![n, n_in], &model.u),
        ("I0", vec![n], &model.i0),
        ("O", vec![n_out, n], &model.o),
        ("v0", vec![n], &model.v0),
        ("s0", vec![n], &model.s0),
    ] {
        let file = format!("{name}.npy");
        npy::write(&dir.join(&file), &shape, values).or_else(|e| fail(&file, e.to_string()))?;
    }
    Ok(())
}

/// `file` of `dir`, its header and size checked.
fn read(dir: &Path, file: &str) -> Result<Array, CaseError> {
    match npy::read(&dir.join(file)) {
        Ok(array) => Ok(array),
        Err(npy::NpyError::NotFound) => case::missing(file, None),
        Err(e) => fail(file, e.to_string()),
    }
}

/// The values of `array` (read from `file`), of one of the `shapes` (the first is the
/// one named in an error), in f32, every value finite there.
fn checked_f32(
    file: &str,
    array: &Array,
    shapes: &[&[usize]],
    meaning: &str,
) -> Result<Vec<f32>, CaseError> {
    if !shapes.iter().any(|s| array.shape == *s) {
        return fail(
            file,
            format!("shape {:?}, expected {meaning} = {:?}", array.shape, shapes[0]),
        );
    }
    let values: Vec<f32> = match &array.values {
        npy::Values::F32(v) => v.clone(),
        npy::Values::F64(v) => v.iter().map(|&x| x as f32).collect(),
    };
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return fail(
            file,
            format!(
                "element {} is not finite in float32: every value must be",
                multi_index(i, &array.shape)
            ),
        );
    }
    Ok(values)
}

/// `file` of `dir` in f32, of one of the `shapes` ([`checked_f32`]).
fn read_f32(
    dir: &Path,
    file: &str,
    shapes: &[&[usize]],
    meaning: &str,
) -> Result<Vec<f32>, CaseError> {
    checked_f32(file, &read(dir, file)?, shapes, meaning)
}

/// An error of [`load`] on `dir` as one line: the file's path, then the fault (the folder's
/// own path when the fault is the folder's).
pub fn error_at(dir: &Path, error: &CaseError) -> String {
    case::one_line(&error.clone().in_folder(dir).to_string())
}

/// Reads the model folder `dir`, checking every file as `spikegrad grad` checks a case
/// and the per-neuron constants against docs/model.md sections 4-5; an error names the
/// file and the fault.
pub fn load(dir: &Path) -> Result<SavedModel, CaseError> {
    if !dir.is_dir() {
        // The folder itself is at fault: no file name ([`error_at`] gives the path).
        return fail("", "not a folder (a model folder written by spikegrad train)");
    }
    let settings = case::read_settings(dir)?;
    // Checked here, not at the first run: T is the data's, but the window's own order is not.
    settings.loss.window(None, "")?;
    if !settings.neuron.is_theta() {
        return fail(
            CONFIG,
            format!(
                "neuron {:?}: training and running support theta networks only",
                settings.neuron.name()
            ),
        );
    }
    let task = std::fs::read_to_string(dir.join(CONFIG))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| config.get("task").cloned());
    // W, U and O fix the sizes: each read once, its shape checked against the others.
    let (w, u, o) = (read(dir, "W.npy")?, read(dir, "U.npy")?, read(dir, "O.npy")?);
    let w_shape = &w.shape;
    let n = match w_shape[..] {
        [n, m] if n == m && n > 0 => n,
        _ => return fail("W.npy", format!("shape {w_shape:?}, expected (N, N) with N >= 1")),
    };
    let u_shape = &u.shape;
    let n_in = match u_shape[..] {
        [rows, n_in] if rows == n && n_in > 0 => n_in,
        _ => {
            return fail(
                "U.npy",
                format!("shape {u_shape:?}, expected (N, n_in) with N = {n} from W and n_in >= 1"),
            )
        }
    };
    let o_shape = &o.shape;
    let n_out = match o_shape[..] {
        [n_out, cols] if cols == n && n_out > 0 => n_out,
        _ => {
            return fail(
                "O.npy",
                format!(
                    "shape {o_shape:?}, expected (n_out, N) with N = {n} from W and n_out >= 1"
                ),
            )
        }
    };
    let w = checked_f32("W.npy", &w, &[&[n, n]], "(N, N)")?;
    let u = checked_f32("U.npy", &u, &[&[n, n_in]], "(N, n_in)")?;
    let i0 = read_f32(dir, "I0.npy", &[&[n]], "(N,)")?;
    let o = checked_f32("O.npy", &o, &[&[n_out, n]], "(n_out, N)")?;
    let v0 = read_f32(dir, "v0.npy", &[&[n], &[1, n]], "(N,)")?;
    let s0 = read_f32(dir, "s0.npy", &[&[n], &[1, n]], "(N,)")?;
    let per_neuron = |file: &Option<String>| -> Result<Option<Vec<f32>>, CaseError> {
        file.as_ref().map(|file| read_f32(dir, file, &[&[n]], "(N,)")).transpose()
    };
    let tau = per_neuron(&settings.tau_file)?;
    let tau_s = per_neuron(&settings.tau_s_file)?;
    let w_mask = if dir.join("W_mask.npy").exists() {
        Some(read_f32(dir, "W_mask.npy", &[&[n, n]], "(N, N)")?)
    } else {
        None
    };
    let mut config = settings.config;
    // A per-neuron constant's shared field stands for the largest (as in a case).
    let largest = |v: &[f32]| v.iter().fold(f64::MIN, |m, &x| m.max(x as f64));
    if let Some(tau) = &tau {
        config.tau = largest(tau);
    }
    if let Some(tau_s) = &tau_s {
        config.tau_s = largest(tau_s);
    }
    let step = settings.neuron.step();
    let model = Model { config, n, n_in, n_out, w, u, i0, o, v0, s0, tau, tau_s, w_mask, step };
    check_runs(&model, &settings.tau_file, &settings.tau_s_file)?;
    if let Some(classes) = settings.loss.classes.filter(|&c| c != n_out) {
        return fail(
            "O.npy",
            format!("n_out = {n_out} differs from loss.classes = {classes} of config.json"),
        );
    }
    Ok(SavedModel { model, loss: Some(settings.loss), task })
}

/// One step of one trial: the kernels' checks of the constants (per neuron included),
/// the mask and the state, each error given to the file it is about.
fn check_runs(
    model: &Model,
    tau_file: &Option<String>,
    tau_s_file: &Option<String>,
) -> Result<(), CaseError> {
    let step = ModelStep::<f32>::new(&model.config, model.step)
        .or_else(|e| fail(CONFIG, e.to_string()))?;
    let x = vec![0.0; model.n_in];
    let batch = Batch::new(Inputs { b: 1, t: 1, v0: &model.v0, s0: &model.s0, x: &x });
    let Err(e) = step.forward(&mut Workspace::new(), &model.network(), &batch, Record::Readout)
    else {
        return Ok(());
    };
    let file = match &e {
        spikegrad::Error::InvalidTimeConstant { array: "tau", .. } => tau_file.as_deref(),
        spikegrad::Error::InvalidTimeConstant { .. } => tau_s_file.as_deref(),
        spikegrad::Error::NonFiniteState { .. } => Some("W.npy"),
        _ => None,
    };
    fail(file.unwrap_or(CONFIG), e.to_string())
}

/// Writes the optimiser's state and the run's `progress` (iteration, counters, history)
/// into `dir/optimizer/`; an error names the file that could not be written.
pub fn save_optimizer(
    dir: &Path,
    state: &AdamState,
    progress: &serde_json::Value,
) -> Result<(), CaseError> {
    let folder = dir.join(OPTIMIZER);
    std::fs::create_dir(&folder).or_else(|e| fail(OPTIMIZER, e.to_string()))?;
    for (k, name) in SLOTS.iter().enumerate() {
        for (moment, values) in [("m", &state.first[k]), ("v", &state.second[k])] {
            let file = format!("{moment}_{name}.npy");
            npy::write(&folder.join(&file), &[values.len()], values)
                .or_else(|e| fail(&format!("{OPTIMIZER}/{file}"), e.to_string()))?;
        }
    }
    let state_json = json!({ "adam_steps": state.steps, "progress": progress });
    write_json(&folder.join("state.json"), &state_json)
        .or_else(|e| fail(&format!("{OPTIMIZER}/state.json"), e.to_string()))
}

/// The optimiser state and progress saved in `dir/optimizer/`, or `None` when `dir` has
/// no optimiser folder. Every moment file is checked against `model` (the checkpoint's
/// model) and against whether the resuming run trains time constants: its length, and
/// finite values (second moments >= 0); an error names the file.
pub fn load_optimizer(
    dir: &Path,
    model: &Model,
    trains_time_constants: bool,
) -> Result<Option<(AdamState, serde_json::Value)>, CaseError> {
    let folder = dir.join(OPTIMIZER);
    if !folder.is_dir() {
        return Ok(None);
    }
    let state_file = format!("{OPTIMIZER}/state.json");
    let text = std::fs::read_to_string(folder.join("state.json"))
        .or_else(|e| fail(&state_file, format!("cannot read: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| CaseError {
        file: state_file.clone(),
        fault: case::Fault::Syntax(case::one_line(&e.to_string())),
    })?;
    let Some(steps) = value.get("adam_steps").and_then(|s| s.as_u64()) else {
        return fail(&state_file, "no adam_steps (a whole number)");
    };
    let mut state = AdamState { steps, first: Vec::new(), second: Vec::new() };
    let (n, constants) = (model.n, if trains_time_constants { model.n } else { 0 });
    let lengths = [n * n, n * model.n_in, n, model.n_out * n, constants, constants];
    for (name, expected) in SLOTS.into_iter().zip(lengths) {
        for (moment, into) in [("m", &mut state.first), ("v", &mut state.second)] {
            let file = format!("{OPTIMIZER}/{moment}_{name}.npy");
            let array = npy::read(&dir.join(&file)).or_else(|e| fail(&file, e.to_string()))?;
            if array.shape != [expected] {
                return fail(&file, moments_mismatch(name, &array.shape, expected));
            }
            let values = array.to_f64();
            let bad = |x: &f64| !(x.is_finite() && (moment == "m" || *x >= 0.0));
            if let Some(i) = values.iter().position(bad) {
                let rule = if moment == "m" { "finite" } else { "finite and >= 0" };
                return case::bad_element(
                    &file,
                    format!("[{i}]"),
                    values[i],
                    format!("must be {rule}"),
                );
            }
            into.push(values);
        }
    }
    Ok(Some((state, value["progress"].clone())))
}

/// Why a moment file of array `name` with `shape` does not fit a run that expects
/// `expected` values.
fn moments_mismatch(name: &str, shape: &[usize], expected: usize) -> String {
    let held = match shape {
        [len] => format!("{len} moments"),
        _ => format!("shape {shape:?}"),
    };
    match (name, expected) {
        ("ln_tau" | "ln_tau_s", 0) => format!(
            "holds {held}: the saved run trained time constants; resume with \
             --train-time-constants, or start from its weights alone"
        ),
        ("ln_tau" | "ln_tau_s", _) => format!(
            "holds {held}, expected {expected}: the saved run did not train time constants; \
             resume without --train-time-constants, or start from its weights alone"
        ),
        _ => format!("holds {held}, expected ({expected},) for {name} of the checkpoint's model"),
    }
}
