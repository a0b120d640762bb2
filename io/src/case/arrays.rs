//! The rules of a case (docs/model.md sections 5 and 6) checked on arrays in memory,
//! wherever they come from: the .npy files of a case folder ([`super::load`]) or
//! the numpy arrays a Python caller passes (the `spikegrad` module of `python/`). The
//! arrays are only borrowed, so a caller whose arrays already have the layout the
//! kernels read computes on them without a copy; every message names the array by its
//! case-folder file (`W.npy`, ...), so both front ends say the same thing.

use super::error::{bad_element, fail, missing, multi_index, CaseError};
use super::settings::{NeuronModel, Settings, CONFIG};
use crate::npy::Dtype;
use spikegrad::Config;

/// The arrays every case has, in order: the network's, then the trials'.
pub const ARRAYS: [&str; 7] = ["W", "U", "I0", "O", "v0", "s0", "x"];

/// Borrowed values of a float array, in its own precision.
#[derive(Debug, Clone, Copy)]
pub enum Floats<'a> {
    /// float32 data.
    F32(&'a [f32]),
    /// float64 data.
    F64(&'a [f64]),
}

impl Floats<'_> {
    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            Floats::F32(_) => Dtype::F32,
            Floats::F64(_) => Dtype::F64,
        }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            Floats::F32(v) => v.len(),
            Floats::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` in f64 (exact for float32); `i` must be below [`Floats::len`] (the
    /// check indexes within a checked shape).
    fn get(&self, i: usize) -> f64 {
        match self {
            Floats::F32(v) => v[i] as f64,
            Floats::F64(v) => v[i],
        }
    }

    /// The index and value of the first element that is not finite.
    fn first_non_finite(&self) -> Option<(usize, f64)> {
        match self {
            Floats::F32(v) => v.iter().position(|x| !x.is_finite()).map(|i| (i, v[i] as f64)),
            Floats::F64(v) => v.iter().position(|x| !x.is_finite()).map(|i| (i, v[i])),
        }
    }
}

/// A borrowed float array: C-order dimensions and values.
#[derive(Debug, Clone, Copy)]
pub struct ArrayRef<'a> {
    /// Dimensions, C order.
    pub shape: &'a [usize],
    /// Elements, C order.
    pub values: Floats<'a>,
}

/// An integer array, owned: (shape, values in C order).
pub type Integers = (Vec<usize>, Vec<i64>);

/// Where the arrays of a case come from.
pub trait Source {
    /// The float array `name` (`"W"`, `"target"`, the stem of a per-neuron constant's
    /// file, ...): `None` when the source has none; an error when it has one that cannot
    /// be read as a float array (the error names its file).
    fn floats(&self, name: &str) -> Result<Option<ArrayRef<'_>>, CaseError>;
    /// The integer array `name` (`"labels"`) as (shape, values), with the same meaning
    /// of `None` and errors.
    fn integers(&self, name: &str) -> Result<Option<Integers>, CaseError>;
}

/// The loss's data of a checked case, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum LossData {
    /// Masked MSE: arrays `target` and `mask`, (T, B, n_out).
    Mse,
    /// Linear: array `G`, (T, B, n_out).
    Linear,
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

/// The dimensions of a case and which of its optional arrays shape the gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
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
    /// Whether v0, s0 are (N,), shared by every trial (their gradients are then summed
    /// over trials) rather than (B, N).
    pub shared_state: [bool; 2],
    /// Whether tau, tau_s are per neuron (their gradients are then arrays (N,), else
    /// numbers in `dconfig`).
    pub per_neuron: [bool; 2],
}

/// What the check of a case found: its dimensions and which optional arrays it has. The
/// values stay where they are (the [`Source`]); this says how to read them.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Step, time constants, gate (a per-neuron constant's field is the largest of its
    /// per-neuron values: valid for the shared rules; the sweeps read the per-neuron ones).
    pub config: Config,
    /// The neuron model.
    pub neuron: NeuronModel,
    /// The dtype of W (and, in a case folder, of every float array).
    pub dtype: Dtype,
    /// Dimensions.
    pub dims: Dims,
    /// Whether there is a `W_mask`, (N, N).
    pub w_mask: bool,
    /// Whether there is an `I_ext`, (T, B, N).
    pub i_ext: bool,
    /// The array names (file stems) of per-neuron tau and tau_s, where config.json names
    /// files for them.
    pub per_neuron: [Option<String>; 2],
    /// The loss's data, or `None` where the check was asked to leave the loss out.
    pub loss: Option<LossData>,
    /// lambda of the rate penalty.
    pub rate_penalty: f64,
    /// The files of the arrays the case uses (`W.npy`, ...), for a warning about the others.
    pub used: Vec<String>,
}

/// `file`'s array from `source`, which the case needs (`why`, for a missing one).
fn required<'s>(source: &'s dyn Source, name: &str, why: &str) -> Result<ArrayRef<'s>, CaseError> {
    match source.floats(name)? {
        Some(array) => Ok(array),
        None => missing(&format!("{name}.npy"), Some(why)),
    }
}

/// Checks an array of the case's `dtype` and `shape` (its meaning in words, and where the
/// dimensions come from): every value finite.
fn check_values(
    file: &str,
    array: &ArrayRef<'_>,
    dtype: Dtype,
    shape: &[usize],
    meaning: &str,
    sources: &str,
) -> Result<(), CaseError> {
    if array.values.dtype() != dtype {
        return fail(
            file,
            format!(
                "dtype {} differs from W.npy's {dtype}: use one dtype for the whole case",
                array.values.dtype()
            ),
        );
    }
    if array.shape != shape {
        return fail(
            file,
            format!("shape {:?}, expected {meaning} = {shape:?} ({sources})", array.shape),
        );
    }
    if array.values.len() != shape.iter().product::<usize>() {
        return fail(file, format!("holds {} values for shape {shape:?}", array.values.len()));
    }
    if let Some((i, value)) = array.values.first_non_finite() {
        let index = multi_index(i, array.shape);
        return bad_element(file, index, value, "every value must be finite");
    }
    Ok(())
}

/// The sizes of a case, read from its required arrays.
struct Sizes {
    n: usize,
    n_in: usize,
    n_out: usize,
    b: usize,
    t: usize,
    /// Whether v0 and s0 are (N,): one state every trial starts from.
    shared: [bool; 2],
    /// Where each size comes from, for messages.
    sources: String,
}

/// Reads the sizes from [`ARRAYS`] (in their order): each dimension is fixed by the first
/// array that carries it, then checked against the others by [`check`].
fn sizes(arrays: &[ArrayRef<'_>]) -> Result<Sizes, CaseError> {
    let dim = |index: usize, axis: usize, what: &str| -> Result<usize, CaseError> {
        let (file, shape) = (format!("{}.npy", ARRAYS[index]), arrays[index].shape);
        match shape.get(axis) {
            Some(&d) if d > 0 => Ok(d),
            Some(_) => fail(
                &file,
                format!("{what} (axis {axis}) is 0: every dimension must be at least 1"),
            ),
            None => fail(&file, format!("has shape {shape:?}: no axis {axis} for {what}")),
        }
    };
    let n = dim(0, 0, "N")?;
    let n_in = dim(1, 1, "n_in")?;
    let n_out = dim(3, 0, "n_out")?;
    // v0 and s0 are (B, N), or (N,): one state every trial starts from (a saved model's).
    let shared = [arrays[4].shape.len() == 1, arrays[5].shape.len() == 1];
    let (b, b_source) = match shared {
        [false, _] => (dim(4, 0, "B")?, "v0"),
        [true, false] => (dim(5, 0, "B")?, "s0"),
        [true, true] => (dim(6, 1, "B")?, "x"),
    };
    let t = dim(6, 0, "T")?;
    let sources = format!(
        "N = {n} from W, n_in = {n_in} from U, n_out = {n_out} from O, B = {b} from {b_source}, T = {t} from x"
    );
    Ok(Sizes { n, n_in, n_out, b, t, shared, sources })
}

/// Checks the arrays of `source` as a case with `settings` (config.json's): every array
/// the network, the trials and (when `with_loss`) the loss need, their dtypes, shapes
/// and values, the per-neuron constants against docs/model.md sections 4-5, the labels
/// and the cross-entropy window. The first fault found is the error, naming its file.
pub fn check(
    settings: &Settings,
    source: &dyn Source,
    with_loss: bool,
) -> Result<Layout, CaseError> {
    let Settings { config, neuron, tau_file, tau_s_file, loss, .. } = settings;
    let (mut config, neuron) = (*config, *neuron);
    let mut arrays: Vec<ArrayRef<'_>> = Vec::with_capacity(ARRAYS.len());
    for name in ARRAYS {
        arrays.push(required(source, name, "every case has it")?);
    }
    let dtype = arrays[0].values.dtype();

    let Sizes { n, n_in, n_out, b, t, shared, sources } = sizes(&arrays)?;
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
    for ((name, array), (shape, meaning)) in ARRAYS.iter().zip(&arrays).zip(&expected) {
        check_values(&format!("{name}.npy"), array, dtype, shape, meaning, &sources)?;
    }

    let mut used: Vec<String> = ARRAYS.iter().map(|name| format!("{name}.npy")).collect();
    let mut optional = |name: &str, shape: &[usize], meaning: &str| -> Result<bool, CaseError> {
        let Some(array) = source.floats(name)? else { return Ok(false) };
        let file = format!("{name}.npy");
        check_values(&file, &array, dtype, shape, meaning, &sources)?;
        used.push(file);
        Ok(true)
    };
    let w_mask = optional("W_mask", &[n, n], "(N, N)")?;
    let i_ext = optional("I_ext", &[t, b, n], "(T, B, N)")?;
    let mut per_neuron = |file: &Option<String>, name: &str| -> Result<_, CaseError> {
        let Some(file) = file else { return Ok(None) };
        used.push(file.clone());
        let stem = file.strip_suffix(".npy").unwrap_or(file);
        let array = match source.floats(stem)? {
            Some(array) => array,
            None => return missing(file, Some(&format!("config.json names it for {name}"))),
        };
        check_values(file, &array, dtype, &[n], "(N,)", &sources)?;
        Ok(Some((stem.to_string(), array)))
    };
    let tau = per_neuron(tau_file, "tau")?;
    let tau_s = per_neuron(tau_s_file, "tau_s")?;
    let per_neuron_values = [&tau, &tau_s].map(|c| c.as_ref().map(|(_, array)| array.values));
    let files = [tau_file.as_deref(), tau_s_file.as_deref()];
    check_time_constants(&mut config, neuron, n, per_neuron_values, files)?;

    let loss_data = if with_loss {
        Some(check_loss(settings, source, dtype, [t, b, n_out], &sources, &mut used)?)
    } else {
        None
    };
    let per_neuron = [tau.is_some(), tau_s.is_some()];
    Ok(Layout {
        config,
        neuron,
        dtype,
        dims: Dims { n, n_in, n_out, b, t, shared_state: shared, per_neuron },
        w_mask,
        i_ext,
        per_neuron: [tau.map(|(stem, _)| stem), tau_s.map(|(stem, _)| stem)],
        loss: loss_data,
        rate_penalty: loss.rate_penalty,
        used,
    })
}

/// Checks each neuron's constants (`per_neuron` values where given, else `config`'s) against
/// the rules of docs/model.md sections 4-5, naming the file and element (or config.json
/// for a shared constant); then sets a per-neuron constant's field of `config` to its
/// largest value (docs on [`Layout::config`]).
fn check_time_constants(
    config: &mut Config,
    neuron: NeuronModel,
    n: usize,
    per_neuron: [Option<Floats<'_>>; 2],
    files: [Option<&str>; 2],
) -> Result<(), CaseError> {
    let [tau, tau_s] = per_neuron;
    for j in 0..n {
        let tau_j = tau.map_or(config.tau, |tau| tau.get(j));
        let tau_s_j = tau_s.map_or(config.tau_s, |tau_s| tau_s.get(j));
        let checked = neuron.validate_neuron(config, j, tau_j, tau_s_j);
        if let Err(spikegrad::Error::InvalidTimeConstant { array, value, rule, .. }) = checked {
            // A broken rule of a shared constant (with a per-neuron partner) is the
            // config's; of a per-neuron one, its file's.
            let file = if array == "tau" { files[0] } else { files[1] };
            return match file {
                Some(file) => bad_element(file, format!("[{j}]"), value, rule),
                None => fail(CONFIG, format!("{array} = {value}: {rule} (for neuron {j})")),
            };
        }
    }
    let largest =
        |values: Floats<'_>| (0..values.len()).map(|j| values.get(j)).fold(f64::MIN, f64::max);
    if let Some(tau) = tau {
        config.tau = largest(tau);
    }
    if let Some(tau_s) = tau_s {
        config.tau_s = largest(tau_s);
    }
    Ok(())
}

/// The loss's arrays of docs/model.md section 6 (target and mask, G, or the labels and
/// window of the cross-entropy), checked against the readout's shape [T, B, n_out].
fn check_loss(
    settings: &Settings,
    source: &dyn Source,
    dtype: Dtype,
    readout_shape: [usize; 3],
    sources: &str,
    used: &mut Vec<String>,
) -> Result<LossData, CaseError> {
    let [t, b, n_out] = readout_shape;
    let loss = &settings.loss;
    let mut readout_sized = |name: &str, why: &str| -> Result<ArrayRef<'_>, CaseError> {
        let file = format!("{name}.npy");
        used.push(file.clone());
        let array = required(source, name, why)?;
        check_values(&file, &array, dtype, &readout_shape, "(T, B, n_out)", sources)?;
        Ok(array)
    };
    match loss.kind.as_str() {
        "mse" => {
            readout_sized("target", "the mse loss needs it")?;
            let mask = readout_sized("mask", "the mse loss needs it")?;
            let outside =
                (0..mask.values.len()).find(|&i| !(0.0..=1.0).contains(&mask.values.get(i)));
            if let Some(i) = outside {
                let (index, value) = (multi_index(i, &readout_shape), mask.values.get(i));
                return bad_element("mask.npy", index, value, "the mask must lie in [0, 1]");
            }
            Ok(LossData::Mse)
        }
        "linear" => {
            readout_sized("G", "the linear loss needs it")?;
            Ok(LossData::Linear)
        }
        _ => {
            let file = "labels.npy";
            used.push(file.into());
            let Some((shape, raw)) = source.integers("labels")? else {
                return missing(file, Some("the cross_entropy loss needs it"));
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
                        let rule = format!(
                            "a label must be a readout channel in 0..{n_out} (n_out = {n_out} \
                             from O)"
                        );
                        return bad_element(file, format!("[{i}]"), label, rule);
                    }
                }
            }
            let (from_step, to_step) = loss.checked_window(Some(t), "x")?;
            Ok(LossData::CrossEntropy { labels, from_step, to_step })
        }
    }
}
