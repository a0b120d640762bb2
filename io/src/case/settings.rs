//! `config.json` of a case, task or model folder (docs/formats.md, "Case folder"): the step, the
//! time constants (shared, or the name of a per-neuron file), the gate, the neuron and
//! step map, and the loss's settings, every key checked against docs/model.md sections
//! 4-6.

use super::error::{fail, missing, one_line, CaseError, Fault};
use serde::{Deserialize, Serialize};
use spikegrad::{Config, Gate};
use spikegrad_train::phase_step::PhaseStep;
use std::path::Path;

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
    ) -> Result<Option<(usize, usize)>, CaseError> {
        if self.kind != "cross_entropy" {
            return Ok(None);
        }
        self.checked_window(steps, steps_from).map(Some)
    }

    /// The window (from_step, to_step] of the cross-entropy loss, checked: both keys given,
    /// to_step within the steps 1..=T (when `steps` = T is known; a model folder learns T
    /// only from the data it runs on) and from_step < to_step, so the window holds a step.
    /// The error names config.json's keys; `steps_from` names where T comes from.
    pub fn checked_window(
        &self,
        steps: Option<usize>,
        steps_from: &str,
    ) -> Result<(usize, usize), CaseError> {
        let (Some(from_step), Some(to_step)) = (self.from_step, self.to_step) else {
            return fail(CONFIG, "the cross_entropy loss needs loss.from_step and loss.to_step");
        };
        if to_step == 0 || steps.is_some_and(|t| to_step > t) {
            let range =
                steps.map_or("1..".into(), |t| format!("1..={t} (T = {t} from {steps_from})"));
            return fail(CONFIG, format!("loss.to_step = {to_step} is outside the steps {range}"));
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

    /// The rules of docs/model.md sections 4-5 on `config`'s shared constants for this
    /// model ([`Config::validate_for`]).
    pub fn validate(self, config: &Config) -> Result<(), spikegrad::Error> {
        match self {
            NeuronModel::Theta => config.validate_for(spikegrad::Theta),
            NeuronModel::HopfPhase => config.validate_for(spikegrad::HopfPhase),
            NeuronModel::ThetaMidpoint => config.validate_for(spikegrad::ThetaMidpoint),
        }
    }

    /// The rules of docs/model.md sections 4-5 on neuron `j`'s own constants for this
    /// model ([`Config::validate_neuron_constants`]).
    pub fn validate_neuron(
        self,
        config: &Config,
        j: usize,
        tau: f64,
        tau_s: f64,
    ) -> Result<(), spikegrad::Error> {
        match self {
            NeuronModel::Theta => config.validate_neuron_constants(spikegrad::Theta, j, tau, tau_s),
            NeuronModel::HopfPhase => {
                config.validate_neuron_constants(spikegrad::HopfPhase, j, tau, tau_s)
            }
            NeuronModel::ThetaMidpoint => {
                config.validate_neuron_constants(spikegrad::ThetaMidpoint, j, tau, tau_s)
            }
        }
    }
}

/// `config.json`, parsed and checked: the configuration, the neuron, the files of
/// per-neuron time constants and the loss settings.
pub struct Settings {
    /// With a per-neuron constant's field still NaN: filled in by [`super::load`].
    pub config: Config,
    /// The neuron model.
    pub neuron: NeuronModel,
    /// Whether `config.json` names the step map (`"step"`), rather than leaving the
    /// default.
    pub step_named: bool,
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing(CONFIG, None),
        Err(e) => fail(CONFIG, format!("cannot read: {e}")),
    }
}

/// The gate config.json names, with its width.
fn gate_of(name: &str, delta: f64) -> Result<Gate, CaseError> {
    match name {
        "raised_cosine" => Ok(Gate::RaisedCosine { delta }),
        "boxcar" => Ok(Gate::Boxcar { delta }),
        other => fail(CONFIG, format!("gate {other:?} is not \"raised_cosine\" or \"boxcar\"")),
    }
}

/// The neuron model and its step map config.json names (the theta neuron and the Euler
/// step by default).
fn neuron_of(neuron: Option<&str>, step: Option<&str>) -> Result<NeuronModel, CaseError> {
    let neuron = match neuron {
        None | Some("theta") => NeuronModel::Theta,
        Some("hopf_phase") => NeuronModel::HopfPhase,
        Some(other) => {
            return fail(
                CONFIG,
                format!("neuron {:?} is not \"theta\" or \"hopf_phase\"", one_line(other)),
            )
        }
    };
    match (neuron, step.map(PhaseStep::from_name)) {
        (neuron, None) => Ok(neuron),
        (neuron, Some(Some(PhaseStep::Euler))) => Ok(neuron),
        (NeuronModel::Theta, Some(Some(step))) => Ok(NeuronModel::theta(step)),
        (neuron, Some(Some(step))) => fail(
            CONFIG,
            format!(
                "step {:?} is the theta neuron's; neuron {:?} steps by \"euler\" only",
                step.name(),
                neuron.name()
            ),
        ),
        (_, Some(None)) => fail(
            CONFIG,
            format!(
                "step {:?} is not \"euler\" or \"midpoint\"",
                one_line(step.unwrap_or_default())
            ),
        ),
    }
}

/// A time constant as (shared value, NaN when per neuron; its file, when per neuron). A
/// per-neuron constant is the name of a file beside config.json: a plain file name, so
/// that a case cannot read outside its folder.
fn split_constant(name: &str, value: TimeConstant) -> Result<(f64, Option<String>), CaseError> {
    match value {
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
    }
}

/// Checks the loss object of config.json: its kind, and keys only where its kind reads
/// them.
fn check_loss(loss: &LossFile) -> Result<(), CaseError> {
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
    Ok(())
}

/// Parses and checks the text of a `config.json` ([`read_settings`]); errors name
/// `config.json`.
pub fn parse_settings(text: &str) -> Result<Settings, CaseError> {
    let parsed: ConfigFile = serde_json::from_str(text).map_err(|e| CaseError {
        file: CONFIG.to_string(),
        fault: Fault::Syntax(one_line(&e.to_string())),
    })?;
    let gate = gate_of(&parsed.gate, parsed.delta)?;
    let neuron = neuron_of(parsed.neuron.as_deref(), parsed.step.as_deref())?;
    let (tau, tau_file) = split_constant("tau", parsed.tau)?;
    let (tau_s, tau_s_file) = split_constant("tau_s", parsed.tau_s)?;
    let config = Config::new(parsed.h, tau, tau_s, gate);
    // The shared rules now on the shared constants; a per-neuron one stands in with a
    // valid placeholder until its file is read and checked element by element.
    let placeholder = |value: f64, other: f64| if value.is_nan() { other } else { value };
    let check =
        Config::new(parsed.h, placeholder(tau, f64::MAX), placeholder(tau_s, f64::MAX), gate);
    neuron.validate(&check).or_else(|e| fail(CONFIG, e.to_string()))?;
    let loss = parsed.loss.unwrap_or_default();
    check_loss(&loss)?;
    let step_named = parsed.step.is_some();
    Ok(Settings { config, neuron, step_named, tau_file, tau_s_file, loss })
}
