//! A case folder (README, "Case folder"): `config.json` and the .npy arrays of the
//! network, the trials and the loss, in the general form of docs/model.md sections 5
//! and 6. Loading checks every file, key, shape, value and rule, and names the file at
//! fault.

use crate::case_arrays::{self, ArrayRef, Dims, Floats, Integers, LossData, Source};
use serde::{Deserialize, Serialize};
use spikegrad::{Config, Gate};
use spikegrad_io::npy::{self, Array, Dtype};
use spikegrad_reference::{Loss, TaskLoss};
use spikegrad_train::phase_step::PhaseStep;
use std::collections::HashMap;
use std::path::Path;

pub use crate::case_arrays::ARRAYS;

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
    step: Option<String>,
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

impl LossFile {
    /// The window (from_step, to_step] of a cross-entropy loss ([`LossFile::checked_window`]);
    /// `None` for the other losses.
    pub fn window(
        &self,
        steps: Option<usize>,
        steps_from: &str,
    ) -> Result<Option<(usize, usize)>, String> {
        if self.kind != "cross_entropy" {
            return Ok(None);
        }
        self.checked_window(steps, steps_from).map(Some)
    }

    /// The window (from_step, to_step] of the cross-entropy loss, checked: both keys given,
    /// to_step within the steps 1..=T (when `steps` = T is known; a model folder learns T
    /// only from the data it runs on) and from_step < to_step, so the window holds a step.
    /// The error is the message about config.json's keys; `steps_from` names where T
    /// comes from.
    pub fn checked_window(
        &self,
        steps: Option<usize>,
        steps_from: &str,
    ) -> Result<(usize, usize), String> {
        let (Some(from_step), Some(to_step)) = (self.from_step, self.to_step) else {
            return Err("the cross_entropy loss needs loss.from_step and loss.to_step".into());
        };
        if to_step == 0 || steps.is_some_and(|t| to_step > t) {
            let range =
                steps.map_or("1..".into(), |t| format!("1..={t} (T = {t} from {steps_from})"));
            return Err(format!("loss.to_step = {to_step} is outside the steps {range}"));
        }
        if from_step >= to_step {
            return Err(format!(
                "loss.from_step = {from_step} must be < loss.to_step = {to_step}: the window \
                 (from_step, to_step] holds no step"
            ));
        }
        Ok((from_step, to_step))
    }
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

/// The built-in neuron models and step maps a case folder can name (`"neuron"` and
/// `"step"` in `config.json`; docs/model.md sections 5 and 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NeuronModel {
    /// `"theta"` (the default) with the Euler step (the default): [`spikegrad::Theta`].
    #[default]
    Theta,
    /// `"hopf_phase"`: [`spikegrad::HopfPhase`] (Euler step).
    HopfPhase,
    /// `"theta"` with `"step": "midpoint"`: [`spikegrad::ThetaMidpoint`].
    ThetaMidpoint,
}

impl NeuronModel {
    /// The name in `config.json`'s `"neuron"`.
    pub fn name(self) -> &'static str {
        match self {
            NeuronModel::Theta | NeuronModel::ThetaMidpoint => "theta",
            NeuronModel::HopfPhase => "hopf_phase",
        }
    }

    /// The step map (`"step"` in `config.json`).
    pub fn step(self) -> PhaseStep {
        match self {
            NeuronModel::Theta | NeuronModel::HopfPhase => PhaseStep::Euler,
            NeuronModel::ThetaMidpoint => PhaseStep::Midpoint,
        }
    }

    /// The theta neuron with step map `step`.
    pub fn theta(step: PhaseStep) -> NeuronModel {
        match step {
            PhaseStep::Midpoint => NeuronModel::ThetaMidpoint,
            _ => NeuronModel::Theta,
        }
    }

    /// Whether the model is the theta neuron (with any step map).
    pub fn is_theta(self) -> bool {
        self.name() == "theta"
    }

    /// The reference's transcription of the model.
    pub fn reference(self) -> &'static dyn spikegrad_reference::Neuron {
        match self {
            NeuronModel::Theta => &spikegrad_reference::Theta,
            NeuronModel::HopfPhase => &spikegrad_reference::HopfPhase,
            NeuronModel::ThetaMidpoint => &spikegrad_reference::ThetaMidpoint,
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
    /// Dimensions, and which of v0, s0 were given as (N,) (their gradients are then
    /// summed over trials) and of tau, tau_s per neuron.
    pub dims: Dims,
    /// The arrays of [`ARRAYS`], in that order (v0 and s0 (B, N), tiled where the
    /// folder gives one state (N,) for every trial).
    pub values: [Vec<f64>; 7],
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
    match std::fs::read_to_string(dir.join(CONFIG)) {
        Ok(text) => parse_settings(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => fail(CONFIG, "file not found"),
        Err(e) => fail(CONFIG, format!("cannot read: {e}")),
    }
}

/// Parses and checks the text of a `config.json` ([`read_settings`]); errors name
/// `config.json`.
pub fn parse_settings(text: &str) -> Result<Settings, CaseError> {
    let parsed: ConfigFile = serde_json::from_str(text)
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
    let neuron = match (neuron, parsed.step.as_deref().map(PhaseStep::from_name)) {
        (neuron, None) => neuron,
        (neuron, Some(Some(PhaseStep::Euler))) => neuron,
        (NeuronModel::Theta, Some(Some(step))) => NeuronModel::theta(step),
        (neuron, Some(Some(step))) => {
            return fail(
                CONFIG,
                format!(
                    "step {:?} is the theta neuron's; neuron {:?} steps by \"euler\" only",
                    step.name(),
                    neuron.name()
                ),
            )
        }
        (_, Some(None)) => {
            let step = parsed.step.as_deref().unwrap_or_default();
            return fail(
                CONFIG,
                format!("step {:?} is not \"euler\" or \"midpoint\"", one_line(step)),
            );
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
        NeuronModel::ThetaMidpoint => check.validate_for(spikegrad::ThetaMidpoint),
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

/// The arrays of a case folder, read before they are checked (a missing file is absent,
/// an unreadable one holds its error); the labels are read when asked for.
struct Folder<'d> {
    dir: &'d Path,
    arrays: HashMap<String, Result<Array, CaseError>>,
}

impl<'d> Folder<'d> {
    /// Reads `names` (file stems) from `dir`, those that exist.
    fn read(dir: &'d Path, names: &[&str]) -> Self {
        let mut arrays = HashMap::new();
        for &name in names {
            let file = format!("{name}.npy");
            match npy::read(&dir.join(&file)) {
                Err(npy::NpyError::NotFound) => {}
                read => {
                    arrays.insert(name.to_string(), read.or_else(|e| fail(&file, e.to_string())));
                }
            }
        }
        Folder { dir, arrays }
    }

    /// The values of `name` in f64 (exact for float32); empty where the folder has none.
    fn f64(&self, name: &str) -> Vec<f64> {
        match self.arrays.get(name) {
            Some(Ok(array)) => array.to_f64(),
            _ => Vec::new(),
        }
    }
}

impl Source for Folder<'_> {
    fn floats(&self, name: &str) -> Result<Option<ArrayRef<'_>>, CaseError> {
        match self.arrays.get(name) {
            None => Ok(None),
            Some(Err(e)) => Err(e.clone()),
            Some(Ok(array)) => Ok(Some(ArrayRef {
                shape: &array.shape,
                values: match &array.values {
                    npy::Values::F32(v) => Floats::F32(v),
                    npy::Values::F64(v) => Floats::F64(v),
                },
            })),
        }
    }

    fn integers(&self, name: &str) -> Result<Option<Integers>, CaseError> {
        let file = format!("{name}.npy");
        match npy::read_integers(&self.dir.join(&file)) {
            Ok(labels) => Ok(Some(labels)),
            Err(npy::NpyError::NotFound) => Ok(None),
            Err(e) => fail(&file, e.to_string()),
        }
    }
}

/// Loads `dir` as a case: config.json and every array checked by
/// [`case_arrays::check`].
pub fn load(dir: &Path) -> Result<Case, CaseError> {
    let settings = read_settings(dir)?;
    let mut names: Vec<&str> = ARRAYS.to_vec();
    names.extend(["W_mask", "I_ext"]);
    for file in [&settings.tau_file, &settings.tau_s_file].into_iter().flatten() {
        names.push(file.strip_suffix(".npy").unwrap_or(file));
    }
    match settings.loss.kind.as_str() {
        "mse" => names.extend(["target", "mask"]),
        "linear" => names.push("G"),
        _ => {}
    }
    let source = Folder::read(dir, &names);
    let layout = case_arrays::check(&settings, &source, true)?;
    // Every array the check found is in the folder, read and checked.
    let values = |name: &str| source.f64(name);
    let mut state: Vec<Vec<f64>> = Vec::with_capacity(ARRAYS.len());
    for (i, name) in ARRAYS.iter().enumerate() {
        let mut v = values(name);
        // v0 and s0 given as (N,) are tiled: every trial starts from them.
        if (i == 4 && layout.dims.shared_state[0]) || (i == 5 && layout.dims.shared_state[1]) {
            v = v.repeat(layout.dims.b);
        }
        state.push(v);
    }
    let present = |name: Option<&str>| name.map(values);
    let [tau_name, tau_s_name] = &layout.per_neuron;
    let task = match layout.loss.clone().expect("checked with the loss") {
        LossData::Mse => TaskLoss::Mse { target: values("target"), mask: values("mask") },
        LossData::Linear => TaskLoss::Linear { g: values("G") },
        LossData::CrossEntropy { labels, from_step, to_step } => {
            TaskLoss::CrossEntropy { labels, from_step, to_step }
        }
    };
    Ok(Case {
        config: layout.config,
        neuron: layout.neuron,
        tau: present(tau_name.as_deref()),
        tau_s: present(tau_s_name.as_deref()),
        dtype: layout.dtype,
        dims: layout.dims,
        values: state.try_into().expect("seven arrays"),
        w_mask: present(layout.w_mask.then_some("W_mask")),
        i_ext: present(layout.i_ext.then_some("I_ext")),
        loss: Loss { task, rate_penalty: layout.rate_penalty },
        unused: unused_arrays(dir, &layout.used),
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
