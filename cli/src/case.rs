//! A case folder (README, "Case folder"): `config.json` and the .npy arrays of the
//! network, the trials and the loss, in the general form of docs/model.md sections 5
//! and 6. Loading checks every file, key, shape, value and rule, and names the file at
//! fault.

use crate::npy::{self, Array, Dtype};
use serde::{Deserialize, Serialize};
use spikegrad::{Config, Gate};
use spikegrad_reference::{Loss, TaskLoss};
use std::path::Path;

/// The arrays every case has, in order: the network's, then the trials'.
pub const ARRAYS: [&str; 7] = ["W", "U", "I0", "O", "v0", "s0", "x"];

/// `config.json`. Unknown keys are refused (a misspelt key would otherwise silently
/// give the gradient of another problem); `task` is what `spikegrad train` records of
/// the task a saved model was trained on, and is not read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    h: f64,
    tau: TimeConstant,
    tau_s: TimeConstant,
    gate: String,
    delta: f64,
    #[serde(default)]
    neuron: Option<String>,
    #[serde(default)]
    loss: Option<LossFile>,
    #[serde(default)]
    #[allow(dead_code)]
    task: Option<serde_json::Value>,
}

/// A time constant: one shared number, or the name of a per-neuron .npy file.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TimeConstant {
    Shared(f64),
    PerNeuron(String),
}

/// The `loss` object of `config.json`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LossFile {
    /// "mse", "cross_entropy" or "linear".
    pub kind: String,
    /// The cross-entropy window starts after this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_step: Option<usize>,
    /// The cross-entropy window's last step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_step: Option<usize>,
    /// lambda >= 0.
    #[serde(default)]
    pub rate_penalty: f64,
    /// The number of classes of the cross-entropy loss (= n_out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<usize>,
}

impl Default for LossFile {
    /// The masked MSE without a rate penalty (a config without `loss`).
    fn default() -> Self {
        LossFile {
            kind: "mse".into(),
            from_step: None,
            to_step: None,
            rate_penalty: 0.0,
            classes: None,
        }
    }
}

/// The name of a loss in `config.json` (`mse`, `cross_entropy`, `linear`).
pub fn kind(task: &TaskLoss) -> &'static str {
    match task {
        TaskLoss::Mse { .. } => "mse",
        TaskLoss::CrossEntropy { .. } => "cross_entropy",
        TaskLoss::Linear { .. } => "linear",
    }
}

/// The built-in neuron models a case folder can name (`"neuron"` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NeuronModel {
    /// `"theta"` (the default): [`spikegrad::Theta`].
    #[default]
    Theta,
    /// `"hopf_phase"`: [`spikegrad::HopfPhase`].
    HopfPhase,
}

impl NeuronModel {
    /// The name in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            NeuronModel::Theta => "theta",
            NeuronModel::HopfPhase => "hopf_phase",
        }
    }

    /// The reference's transcription of the model.
    pub fn reference(self) -> &'static dyn spikegrad_reference::Neuron {
        match self {
            NeuronModel::Theta => &spikegrad_reference::Theta,
            NeuronModel::HopfPhase => &spikegrad_reference::HopfPhase,
        }
    }
}

/// A loaded, fully validated case. Values are held in f64 (exact for float32 files).
#[derive(Debug, Clone)]
pub struct Case {
    /// Step, time constants, gate. Where a time constant is per neuron, its field here
    /// is the largest of the per-neuron values (valid for the shared rules; the sweeps
    /// read the per-neuron values).
    pub config: Config,
    /// The neuron model.
    pub neuron: NeuronModel,
    /// Per-neuron tau_j, (N), when `config.json` names a file for `tau`.
    pub tau: Option<Vec<f64>>,
    /// Per-neuron tau_s,j, (N), when `config.json` names a file for `tau_s`.
    pub tau_s: Option<Vec<f64>>,
    /// The dtype shared by every float array.
    pub dtype: Dtype,
    /// Neurons.
    pub n: usize,
    /// Input channels.
    pub n_in: usize,
    /// Readout channels.
    pub n_out: usize,
    /// Trials.
    pub b: usize,
    /// Steps.
    pub t: usize,
    /// The arrays of [`ARRAYS`], in that order (v0 and s0 (B, N), tiled where the
    /// folder gives one state (N,) for every trial).
    pub values: [Vec<f64>; 7],
    /// Whether v0, s0 were given as (N,): their gradients are then summed over trials.
    pub shared_state: [bool; 2],
    /// `W_mask.npy`, (N, N), if present.
    pub w_mask: Option<Vec<f64>>,
    /// `I_ext.npy`, (T, B, N), if present.
    pub i_ext: Option<Vec<f64>>,
    /// The loss, its data in f64 (the reference's owned form, which both engines take).
    pub loss: Loss,
    /// .npy files in the folder that this case does not use (for a warning).
    pub unused: Vec<String>,
}

/// An error about one file of the case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseError {
    /// The file name.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// An error about `file`.
pub fn fail<T>(file: &str, message: impl Into<String>) -> Result<T, CaseError> {
    Err(CaseError { file: file.to_string(), message: message.into() })
}

/// `text` with control characters escaped (`\n`, `\u{1b}`): a message quoting a key
/// or file name from the user's files stays on one line and prints nothing raw.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// `config.json`, parsed and checked: the configuration, the neuron, the files of
/// per-neuron time constants and the loss settings.
pub struct Settings {
    /// With a per-neuron constant's field still NaN: filled in by [`load`].
    pub config: Config,
    /// The neuron model.
    pub neuron: NeuronModel,
    /// The file of per-neuron tau_j, if `config.json` names one.
    pub tau_file: Option<String>,
    /// The file of per-neuron tau_s,j, if `config.json` names one.
    pub tau_s_file: Option<String>,
    /// The loss (the default MSE when `config.json` has none).
    pub loss: LossFile,
}

/// The configuration file of a case, a task or a model folder.
pub const CONFIG: &str = "config.json";

/// Reads and checks `config.json` of `dir`: every key, the gate, the neuron, the shared
/// constants against docs/model.md section 4, the loss's settings.
pub fn read_settings(dir: &Path) -> Result<Settings, CaseError> {
    let text = match std::fs::read_to_string(dir.join(CONFIG)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return fail(CONFIG, "file not found")
        }
        Err(e) => return fail(CONFIG, format!("cannot read: {e}")),
    };
    let parsed: ConfigFile = serde_json::from_str(&text)
        .or_else(|e| fail(CONFIG, format!("invalid: {}", one_line(&e.to_string()))))?;
    let gate = match parsed.gate.as_str() {
        "raised_cosine" => Gate::RaisedCosine { delta: parsed.delta },
        "boxcar" => Gate::Boxcar { delta: parsed.delta },
        other => {
            return fail(CONFIG, format!("gate {other:?} is not \"raised_cosine\" or \"boxcar\""))
        }
    };
    let neuron = match parsed.neuron.as_deref() {
        None | Some("theta") => NeuronModel::Theta,
        Some("hopf_phase") => NeuronModel::HopfPhase,
        Some(other) => {
            return fail(
                CONFIG,
                format!("neuron {:?} is not \"theta\" or \"hopf_phase\"", one_line(other)),
            )
        }
    };
    // A per-neuron constant is the name of a file beside config.json: a plain file name,
    // so that a case cannot read outside its folder.
    let split = |name: &str, value: TimeConstant| match value {
        TimeConstant::Shared(x) => Ok((x, None)),
        TimeConstant::PerNeuron(file) => {
            let plain = !file.is_empty()
                && file != "."
                && file != ".."
                && !file.contains(['/', '\\', '\0'])
                && file.ends_with(".npy");
            if plain {
                Ok((f64::NAN, Some(file)))
            } else {
                fail(
                    CONFIG,
                    format!(
                        "{name} = {:?}: a per-neuron time constant must name a .npy file of \
                         this folder (a plain file name such as \"{name}.npy\"), or be a number",
                        one_line(&file)
                    ),
                )
            }
        }
    };
    let (tau, tau_file) = split("tau", parsed.tau)?;
    let (tau_s, tau_s_file) = split("tau_s", parsed.tau_s)?;
    let config = Config::new(parsed.h, tau, tau_s, gate);
    // The shared rules now on the shared constants; a per-neuron one stands in with a
    // valid placeholder until its file is read and checked element by element.
    let placeholder = |value: f64, other: f64| if value.is_nan() { other } else { value };
    let check =
        Config::new(parsed.h, placeholder(tau, f64::MAX), placeholder(tau_s, f64::MAX), gate);
    let validated = match neuron {
        NeuronModel::Theta => check.validate_for(spikegrad::Theta),
        NeuronModel::HopfPhase => check.validate_for(spikegrad::HopfPhase),
    };
    validated.or_else(|e| fail(CONFIG, e.to_string()))?;
    let loss = parsed.loss.unwrap_or_default();
    if !matches!(loss.kind.as_str(), "mse" | "cross_entropy" | "linear") {
        return fail(
            CONFIG,
            format!("loss.kind {:?} is not \"mse\", \"cross_entropy\" or \"linear\"", loss.kind),
        );
    }
    if loss.kind != "cross_entropy" {
        for (key, value) in [("from_step", loss.from_step), ("to_step", loss.to_step)] {
            if value.is_some() {
                return fail(
                    CONFIG,
                    format!("loss.{key} is only for the cross_entropy loss, not {:?}", loss.kind),
                );
            }
        }
    }
    if loss.classes.is_some() && loss.kind != "cross_entropy" {
        return fail(
            CONFIG,
            format!("loss.classes is only for the cross_entropy loss, not {:?}", loss.kind),
        );
    }
    if loss.classes.is_some_and(|c| c < 2) {
        return fail(CONFIG, "loss.classes must be at least 2");
    }
    if !(loss.rate_penalty.is_finite() && loss.rate_penalty >= 0.0) {
        return fail(
            CONFIG,
            format!("loss.rate_penalty = {} must be finite and >= 0", loss.rate_penalty),
        );
    }
    Ok(Settings { config, neuron, tau_file, tau_s_file, loss })
}

/// `[i, j, k]` for a flat C-order index into `shape`.
pub fn multi_index(mut flat: usize, shape: &[usize]) -> String {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim.max(1);
        flat /= dim.max(1);
    }
    format!("{index:?}")
}

/// Reads `name`.npy from `dir`; `why` says why the case needs it, for a missing file.
fn read_array(dir: &Path, name: &str, why: &str) -> Result<(String, Array), CaseError> {
    let file = format!("{name}.npy");
    match npy::read(&dir.join(&file)) {
        Ok(array) => Ok((file, array)),
        Err(e) if e == "file not found" && !why.is_empty() => fail(&file, format!("{e}: {why}")),
        Err(e) => fail(&file, e),
    }
}

/// The values of a float array of the case's `dtype` and `shape` (its meaning in
/// words, and where the dimensions come from), all finite.
fn checked_values(
    (file, array): &(String, Array),
    dtype: Dtype,
    shape: &[usize],
    meaning: &str,
    sources: &str,
) -> Result<Vec<f64>, CaseError> {
    if array.dtype() != dtype {
        return fail(
            file,
            format!(
                "dtype {} differs from W.npy's {dtype}: use one dtype for the whole case",
                array.dtype()
            ),
        );
    }
    if array.shape != shape {
        return fail(
            file,
            format!("shape {:?}, expected {meaning} = {shape:?} ({sources})", array.shape),
        );
    }
    let values = array.to_f64();
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return fail(
            file,
            format!(
                "element {} is {}: every value must be finite",
                multi_index(i, &array.shape),
                values[i]
            ),
        );
    }
    Ok(values)
}

/// Loads `dir` as a case.
pub fn load(dir: &Path) -> Result<Case, CaseError> {
    let Settings { mut config, neuron, tau_file, tau_s_file, loss } = read_settings(dir)?;
    let mut arrays: Vec<(String, Array)> = Vec::new();
    for name in ARRAYS {
        arrays.push(read_array(dir, name, "every case has it")?);
    }
    let dtype = arrays[0].1.dtype();

    // Each dimension is fixed by the first array that carries it, then checked.
    let dim = |(file, array): &(String, Array),
               axis: usize,
               what: &str|
     -> Result<usize, CaseError> {
        match array.shape.get(axis) {
            Some(&d) if d > 0 => Ok(d),
            Some(_) => {
                fail(file, format!("{what} (axis {axis}) is 0: every dimension must be at least 1"))
            }
            None => fail(file, format!("has shape {:?}: no axis {axis} for {what}", array.shape)),
        }
    };
    let n = dim(&arrays[0], 0, "N")?;
    let n_in = dim(&arrays[1], 1, "n_in")?;
    let n_out = dim(&arrays[3], 0, "n_out")?;
    // v0 and s0 are (B, N), or (N,): one state every trial starts from (a saved model's).
    let shared = [&arrays[4], &arrays[5]].map(|(_, a)| a.shape.len() == 1);
    let (b, b_source) = match shared {
        [false, _] => (dim(&arrays[4], 0, "B")?, "v0"),
        [true, false] => (dim(&arrays[5], 0, "B")?, "s0"),
        [true, true] => (dim(&arrays[6], 1, "B")?, "x"),
    };
    let t = dim(&arrays[6], 0, "T")?;
    let sources = format!(
        "N = {n} from W, n_in = {n_in} from U, n_out = {n_out} from O, B = {b} from {b_source}, T = {t} from x"
    );
    let state = |shared: bool| {
        if shared {
            (vec![n], "(N,) (one state for every trial) or (B, N)")
        } else {
            (vec![b, n], "(B, N) or (N,)")
        }
    };
    let expected: [(Vec<usize>, &str); 7] = [
        (vec![n, n], "(N, N)"),
        (vec![n, n_in], "(N, n_in)"),
        (vec![n], "(N,)"),
        (vec![n_out, n], "(n_out, N)"),
        state(shared[0]),
        state(shared[1]),
        (vec![t, b, n_in], "(T, B, n_in)"),
    ];
    let mut values: Vec<Vec<f64>> = Vec::with_capacity(7);
    for (array, (shape, meaning)) in arrays.iter().zip(&expected) {
        values.push(checked_values(array, dtype, shape, meaning, &sources)?);
    }
    let mut values: [Vec<f64>; 7] = values.try_into().expect("seven arrays");
    for (slot, shared) in [4, 5].into_iter().zip(shared) {
        if shared {
            values[slot] = values[slot].repeat(b);
        }
    }

    let mut used: Vec<String> = ARRAYS.iter().map(|name| format!("{name}.npy")).collect();
    let mut optional =
        |name: &str, shape: &[usize], meaning: &str| -> Result<Option<Vec<f64>>, CaseError> {
            let file = format!("{name}.npy");
            if !dir.join(&file).exists() {
                return Ok(None);
            }
            used.push(file);
            let array = read_array(dir, name, "")?;
            checked_values(&array, dtype, shape, meaning, &sources).map(Some)
        };
    let w_mask = optional("W_mask", &[n, n], "(N, N)")?;
    let i_ext = optional("I_ext", &[t, b, n], "(T, B, N)")?;
    let mut per_neuron = |file: &Option<String>, name: &str| -> Result<_, CaseError> {
        let Some(file) = file else { return Ok(None) };
        used.push(file.clone());
        let stem = file.strip_suffix(".npy").unwrap_or(file);
        let why = format!("config.json names it for {name}");
        let array = read_array(dir, stem, &why)?;
        checked_values(&array, dtype, &[n], "(N,)", &sources).map(Some)
    };
    let tau = per_neuron(&tau_file, "tau")?;
    let tau_s = per_neuron(&tau_s_file, "tau_s")?;
    // Each neuron's constants against the rules of docs/model.md sections 4-5, the file
    // and element named.
    let reference_config = reference_config(&config).or_else(|e| fail(CONFIG, e))?;
    for j in 0..n {
        let tau_j = tau.as_ref().map_or(config.tau, |tau| tau[j]);
        let tau_s_j = tau_s.as_ref().map_or(config.tau_s, |tau_s| tau_s[j]);
        let checked = reference_config.validate_neuron(neuron.reference(), j, tau_j, tau_s_j);
        if let Err(spikegrad_reference::Error::InvalidTimeConstant { array, value, rule, .. }) =
            checked
        {
            // A broken rule of a shared constant (with a per-neuron partner) is the
            // config's; of a per-neuron one, its file's.
            let file = if array == "tau" { &tau_file } else { &tau_s_file };
            return match file {
                Some(file) => fail(file, format!("element [{j}] is {value}: {rule}")),
                None => fail(CONFIG, format!("{array} = {value}: {rule} (for neuron {j})")),
            };
        }
    }
    // The largest per-neuron value stands for the shared field (docs on `Case::config`).
    let largest = |values: &[f64]| values.iter().copied().fold(f64::MIN, f64::max);
    if let Some(tau) = &tau {
        config.tau = largest(tau);
    }
    if let Some(tau_s) = &tau_s {
        config.tau_s = largest(tau_s);
    }

    let readout_shape = [t, b, n_out];
    let mut required = |name: &str, why: &str| -> Result<(String, Array), CaseError> {
        used.push(format!("{name}.npy"));
        read_array(dir, name, why)
    };
    let task = match loss.kind.as_str() {
        "mse" => {
            let target = required("target", "the mse loss needs it")?;
            let target = checked_values(&target, dtype, &readout_shape, "(T, B, n_out)", &sources)?;
            let mask_file = required("mask", "the mse loss needs it")?;
            let mask =
                checked_values(&mask_file, dtype, &readout_shape, "(T, B, n_out)", &sources)?;
            if let Some(i) = mask.iter().position(|m| !(0.0..=1.0).contains(m)) {
                return fail(
                    "mask.npy",
                    format!(
                        "element {} is {}: the mask must lie in [0, 1]",
                        multi_index(i, &readout_shape),
                        mask[i]
                    ),
                );
            }
            TaskLoss::Mse { target, mask }
        }
        "linear" => {
            let g = required("G", "the linear loss needs it")?;
            TaskLoss::Linear {
                g: checked_values(&g, dtype, &readout_shape, "(T, B, n_out)", &sources)?,
            }
        }
        _ => {
            let file = "labels.npy";
            used.push(file.into());
            let (shape, raw) = match npy::read_integers(&dir.join(file)) {
                Ok(labels) => labels,
                Err(e) if e == "file not found" => {
                    return fail(file, "file not found: the cross_entropy loss needs it")
                }
                Err(e) => return fail(file, e),
            };
            if shape != [b] {
                return fail(file, format!("shape {shape:?}, expected (B,) = [{b}] ({sources})"));
            }
            if n_out < 2 {
                return fail(
                    "O.npy",
                    format!("n_out = {n_out}: the cross_entropy loss needs at least 2 readout channels (classes)"),
                );
            }
            if let Some(classes) = loss.classes.filter(|&c| c != n_out) {
                return fail(
                    "O.npy",
                    format!("n_out = {n_out} differs from loss.classes = {classes} of config.json"),
                );
            }
            let mut labels = Vec::with_capacity(b);
            for (i, &label) in raw.iter().enumerate() {
                match usize::try_from(label) {
                    Ok(label) if label < n_out => labels.push(label),
                    _ => {
                        return fail(
                            file,
                            format!(
                                "element [{i}] is {label}: a label must be a readout channel in \
                                 0..{n_out} (n_out = {n_out} from O)"
                            ),
                        )
                    }
                }
            }
            let (Some(from_step), Some(to_step)) = (loss.from_step, loss.to_step) else {
                return fail(
                    CONFIG,
                    "the cross_entropy loss needs loss.from_step and loss.to_step",
                );
            };
            if to_step == 0 || to_step > t {
                return fail(
                    CONFIG,
                    format!(
                        "loss.to_step = {to_step} is outside the steps 1..={t} (T = {t} from x)"
                    ),
                );
            }
            if from_step >= to_step {
                return fail(
                    CONFIG,
                    format!(
                        "loss.from_step = {from_step} must be < loss.to_step = {to_step}: the \
                         window (from_step, to_step] holds no step"
                    ),
                );
            }
            TaskLoss::CrossEntropy { labels, from_step, to_step }
        }
    };
    let unused = unused_arrays(dir, &used);
    Ok(Case {
        config,
        neuron,
        tau,
        tau_s,
        dtype,
        n,
        n_in,
        n_out,
        b,
        t,
        values,
        shared_state: shared,
        w_mask,
        i_ext,
        loss: Loss { task, rate_penalty: loss.rate_penalty },
        unused,
    })
}

/// The reference's form of a kernels configuration (both engines of `grad`, and the
/// per-neuron checks of a case, use it); an error for a gate the reference lacks.
pub fn reference_config(config: &Config) -> Result<spikegrad_reference::Config, String> {
    use spikegrad_reference::Gate as R;
    let gate = match config.gate {
        Gate::Boxcar { delta } => R::Boxcar { delta },
        Gate::RaisedCosine { delta } => R::RaisedCosine { delta },
        other => return Err(format!("the reference engine has no gate {other:?}")),
    };
    let Config { h, tau, tau_s, .. } = *config;
    Ok(spikegrad_reference::Config { h, tau, tau_s, gate })
}

/// The .npy files in `dir` that are not in `used`, sorted.
fn unused_arrays(dir: &Path, used: &[String]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut unused: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".npy") && !used.contains(name))
        .map(|name| one_line(&name))
        .collect();
    unused.sort();
    unused
}
