//! A case folder (docs/formats.md, "Case folder"): `config.json` and the .npy arrays of the
//! network, the trials and the loss, in the general form of docs/model.md sections 5
//! and 6. Loading checks every file, key, shape, value and rule, and names the file at
//! fault; [`arrays`] holds the same checks for arrays already in memory (the Python
//! module's), and [`sweep`] runs the kernels on a checked case.

pub mod arrays;
mod error;
mod gradients;
mod settings;
pub mod sweep;

pub use arrays::{ArrayRef, Dims, Floats, Integers, Layout, LossData, Source, ARRAYS};
pub use error::{bad_element, fail, missing, multi_index, one_line, CaseError, Fault, FolderError};
pub use gradients::Gradients;
pub use settings::{parse_settings, read_settings, LossFile, NeuronModel, Settings, CONFIG};

use crate::npy::{self, Array, Dtype};
use spikegrad::Config;
use std::collections::HashMap;
use std::path::Path;

/// The loss of a loaded case with its data in f64 (docs/model.md section 6).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CaseLoss {
    /// Masked MSE: `target` and `mask`, (T, B, n_out) each.
    Mse {
        /// The target readout.
        target: Vec<f64>,
        /// The weight of each readout element, in [0, 1].
        mask: Vec<f64>,
    },
    /// Linear: `G`, (T, B, n_out).
    Linear {
        /// dL/do.
        g: Vec<f64>,
    },
    /// Cross-entropy of the readout's mean over (from_step, to_step].
    CrossEntropy {
        /// The class of each trial, (B), each in 0..n_out.
        labels: Vec<usize>,
        /// The window starts after this step.
        from_step: usize,
        /// The window's last step.
        to_step: usize,
    },
}

impl CaseLoss {
    /// The loss's name in `config.json` (`mse`, `cross_entropy`, `linear`).
    pub fn kind(&self) -> &'static str {
        match self {
            CaseLoss::Mse { .. } => "mse",
            CaseLoss::CrossEntropy { .. } => "cross_entropy",
            CaseLoss::Linear { .. } => "linear",
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
    /// The loss, its data in f64.
    pub loss: CaseLoss,
    /// lambda of the rate penalty (docs/model.md section 6).
    pub rate_penalty: f64,
    /// .npy files in the folder that this case does not use (for a warning).
    pub unused: Vec<String>,
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
/// [`arrays::check`].
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
    let layout = arrays::check(&settings, &source, true)?;
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
        LossData::Mse => CaseLoss::Mse { target: values("target"), mask: values("mask") },
        LossData::Linear => CaseLoss::Linear { g: values("G") },
        LossData::CrossEntropy { labels, from_step, to_step } => {
            CaseLoss::CrossEntropy { labels, from_step, to_step }
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
        loss: task,
        rate_penalty: layout.rate_penalty,
        unused: unused_arrays(dir, &layout.used),
    })
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
