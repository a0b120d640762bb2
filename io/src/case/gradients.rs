//! The output of `spikegrad grad` (docs/formats.md, "Case folder"): the loss and every gradient
//! of a case, named as their files, and the folder that holds them.

use super::arrays::Dims;
use crate::npy::{self, Dtype};
use crate::staging::{write_json, Staging, Writer};
use std::path::Path;

/// The loss and the gradients, in f64 (exact for f32 results), named as the output
/// files (without `.npy`), with their shapes.
pub struct Gradients {
    /// L.
    pub loss: f64,
    /// (name, shape, values): dW dU dI0 dO dv0 ds0 dx, dI_ext for a case with I_ext,
    /// dtau and dtau_s for per-neuron constants.
    pub arrays: Vec<(&'static str, Vec<usize>, Vec<f64>)>,
    /// `dconfig.json`: dL/dtau and dL/dtau_s where they are shared (the sum of the
    /// per-neuron derivatives, docs/model.md section 7), dL/dDelta (null for the boxcar).
    pub dconfig: serde_json::Value,
}

impl Gradients {
    /// Names and shapes from the case's dimensions; the values in the order of `values`:
    /// dW dU dI0 dO dv0 ds0 dx dI_ext (the last only when the case has I_ext), with dv0
    /// and ds0 per trial (B, N); then the gradients of the constants, per neuron (`dtau`,
    /// `dtau_s`, (N) each) and of Delta.
    pub fn new(
        dims: Dims,
        loss: f64,
        values: Vec<Vec<f64>>,
        [dtau, dtau_s]: [Vec<f64>; 2],
        ddelta: Option<f64>,
    ) -> Self {
        let Dims { n, n_in, n_out, b, t, .. } = dims;
        let shapes = [
            ("dW", vec![n, n]),
            ("dU", vec![n, n_in]),
            ("dI0", vec![n]),
            ("dO", vec![n_out, n]),
            ("dv0", vec![b, n]),
            ("ds0", vec![b, n]),
            ("dx", vec![t, b, n_in]),
            ("dI_ext", vec![t, b, n]),
        ];
        let arrays = shapes.into_iter().zip(values).map(|((name, shape), v)| {
            // A state shared by every trial: its gradient is the sum over trials.
            let shared = match name {
                "dv0" => dims.shared_state[0],
                "ds0" => dims.shared_state[1],
                _ => false,
            };
            if shared {
                let summed = (0..n).map(|i| (0..b).map(|k| v[k * n + i]).sum()).collect();
                (name, vec![n], summed)
            } else {
                (name, shape, v)
            }
        });
        let mut arrays: Vec<_> = arrays.collect();
        let mut dconfig = serde_json::Map::new();
        let constants = [("tau", "dtau"), ("tau_s", "dtau_s")].into_iter().zip(dims.per_neuron);
        for (((key, file), per_neuron), values) in constants.zip([dtau, dtau_s]) {
            if values.is_empty() {
                // Not computed (the caller did not ask for the constants' gradients).
                continue;
            }
            if per_neuron {
                arrays.push((file, vec![n], values));
            } else {
                dconfig.insert(key.into(), values.iter().sum::<f64>().into());
            }
        }
        dconfig.insert("delta".into(), ddelta.into());
        Gradients { loss, arrays, dconfig: dconfig.into() }
    }

    /// Writes `loss.json`, `dconfig.json` and one .npy file per gradient, in `precision`,
    /// into `out`, replacing it whole, or leaving it untouched on failure (a folder that
    /// `grad` did not write is refused: [`Staging::new`]).
    pub fn write(&self, out: &Path, precision: Dtype) -> std::io::Result<()> {
        let staging = Staging::new(out, Writer::Grad)?;
        write_json(&staging.path().join("loss.json"), &serde_json::json!({ "loss": self.loss }))?;
        write_json(&staging.path().join("dconfig.json"), &self.dconfig)?;
        for (name, shape, values) in &self.arrays {
            let path = staging.path().join(format!("{name}.npy"));
            match precision {
                Dtype::F64 => npy::write(&path, shape, values)?,
                Dtype::F32 => {
                    npy::write(&path, shape, &values.iter().map(|&x| x as f32).collect::<Vec<_>>())?
                }
            }
        }
        staging.commit()
    }
}
