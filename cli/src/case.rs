//! A case folder (DESIGN.md): `config.json` and `W U I0 O v0 s0 x target mask` as .npy.
//! Loading checks every file, shape, value and rule, and names the file at fault.

use crate::npy::{self, Array, Dtype};
use serde::Deserialize;
use spikegrad::{Config, Gate};
use std::path::Path;

/// The arrays of a case, in file order.
pub const ARRAYS: [&str; 9] = ["W", "U", "I0", "O", "v0", "s0", "x", "target", "mask"];

/// `config.json`: the simulation constants. Other keys (a task's constants) are ignored.
#[derive(Debug, Deserialize)]
struct ConfigFile {
    h: f64,
    tau: f64,
    tau_s: f64,
    gate: String,
    delta: f64,
}

/// A loaded, fully validated case. Values are held in f64 (exact for float32 files).
#[derive(Debug, Clone)]
pub struct Case {
    /// Step, time constants, gate.
    pub config: Config,
    /// The dtype shared by every array.
    pub dtype: Dtype,
    /// N, n_in, n_out, B, T.
    pub n: usize,
    /// Input channels.
    pub n_in: usize,
    /// Readout channels.
    pub n_out: usize,
    /// Trials.
    pub b: usize,
    /// Steps.
    pub t: usize,
    /// The nine arrays, in the order of [`ARRAYS`].
    pub values: [Vec<f64>; 9],
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

fn fail<T>(file: &str, message: impl Into<String>) -> Result<T, CaseError> {
    Err(CaseError { file: file.to_string(), message: message.into() })
}

/// Reads and checks `config.json`.
pub fn read_config(dir: &Path) -> Result<Config, CaseError> {
    let file = "config.json";
    let text = match std::fs::read_to_string(dir.join(file)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return fail(file, "file not found"),
        Err(e) => return fail(file, format!("cannot read: {e}")),
    };
    let parsed: ConfigFile =
        serde_json::from_str(&text).or_else(|e| fail(file, format!("invalid: {e}")))?;
    let gate = match parsed.gate.as_str() {
        "raised_cosine" => Gate::RaisedCosine { delta: parsed.delta },
        "boxcar" => Gate::Boxcar { delta: parsed.delta },
        other => {
            return fail(file, format!("gate {other:?} is not \"raised_cosine\" or \"boxcar\""))
        }
    };
    let config = Config { h: parsed.h, tau: parsed.tau, tau_s: parsed.tau_s, gate };
    config.validate().or_else(|e| fail(file, e.to_string()))?;
    Ok(config)
}

/// `[i, j, k]` for a flat C-order index into `shape`.
fn multi_index(mut flat: usize, shape: &[usize]) -> String {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim.max(1);
        flat /= dim.max(1);
    }
    format!("{index:?}")
}

/// Loads `dir` as a case.
pub fn load(dir: &Path) -> Result<Case, CaseError> {
    let config = read_config(dir)?;
    let mut arrays: Vec<(String, Array)> = Vec::new();
    for name in ARRAYS {
        let file = format!("{name}.npy");
        let array = npy::read(&dir.join(&file)).or_else(|e| fail(&file, e))?;
        arrays.push((file, array));
    }
    let dtype = arrays[0].1.dtype();
    for (file, array) in &arrays {
        if array.dtype() != dtype {
            return fail(
                file,
                format!(
                    "dtype {} differs from W.npy's {dtype}: use one dtype for the whole case",
                    array.dtype()
                ),
            );
        }
    }

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
    let b = dim(&arrays[4], 0, "B")?;
    let t = dim(&arrays[6], 0, "T")?;
    let expected: [(Vec<usize>, &str); 9] = [
        (vec![n, n], "(N, N)"),
        (vec![n, n_in], "(N, n_in)"),
        (vec![n], "(N,)"),
        (vec![n_out, n], "(n_out, N)"),
        (vec![b, n], "(B, N)"),
        (vec![b, n], "(B, N)"),
        (vec![t, b, n_in], "(T, B, n_in)"),
        (vec![t, b, n_out], "(T, B, n_out)"),
        (vec![t, b, n_out], "(T, B, n_out)"),
    ];
    for ((file, array), (shape, meaning)) in arrays.iter().zip(&expected) {
        if &array.shape != shape {
            return fail(
                file,
                format!(
                    "shape {:?}, expected {meaning} = {shape:?} (N = {n} from W, n_in = {n_in} from U, \
                     n_out = {n_out} from O, B = {b} from v0, T = {t} from x)",
                    array.shape
                ),
            );
        }
    }

    let mut values: Vec<Vec<f64>> = Vec::with_capacity(9);
    for (file, array) in &arrays {
        let v = array.to_f64();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return fail(
                file,
                format!(
                    "element {} is {}: every value must be finite",
                    multi_index(i, &array.shape),
                    v[i]
                ),
            );
        }
        values.push(v);
    }
    if let Some(i) = values[8].iter().position(|m| !(0.0..=1.0).contains(m)) {
        return fail(
            "mask.npy",
            format!(
                "element {} is {}: the mask must lie in [0, 1]",
                multi_index(i, &arrays[8].1.shape),
                values[8][i]
            ),
        );
    }
    let values: [Vec<f64>; 9] = values.try_into().expect("nine arrays");
    Ok(Case { config, dtype, n, n_in, n_out, b, t, values })
}
