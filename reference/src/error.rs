use std::fmt;

/// Everything that can go wrong in the reference: bad configuration, bad shapes,
/// non-finite data, or a run that blows up. Every message names the field, array,
/// step or neuron involved.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// A scalar of the configuration breaks a rule of docs/model.md section 4.
    InvalidConfig {
        /// Field name as in `config.json` (`h`, `tau`, `tau_s`, `delta`).
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The rule it breaks, in words.
        rule: String,
    },
    /// A per-neuron time constant breaks a rule of docs/model.md sections 4-5.
    InvalidTimeConstant {
        /// `tau` or `tau_s`.
        array: &'static str,
        /// The neuron j whose constant it is.
        neuron: usize,
        /// The offending value.
        value: f64,
        /// The rule it breaks, in words.
        rule: String,
    },
    /// A dimension (N, n_in, n_out, B, T) is zero.
    EmptyDimension {
        /// Which dimension.
        name: &'static str,
    },
    /// An array does not have the length its shape requires.
    ShapeMismatch {
        /// The array (`W`, `U`, `I0`, `O`, `v0`, `s0`, `x`, `target`, `mask`).
        array: &'static str,
        /// Expected shape in words, e.g. `(N, N) = (4, 4)`.
        expected: String,
        /// Number of elements expected.
        expected_len: usize,
        /// Number of elements given.
        got_len: usize,
    },
    /// An input array holds NaN or an infinity.
    NonFiniteInput {
        /// The array.
        array: &'static str,
        /// Flat (C order) index of the first bad element.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// A setting of the loss breaks a rule of docs/model.md section 6.
    InvalidLoss {
        /// The setting (`from_step`, `to_step`, `rate_penalty`, `n_out`).
        field: &'static str,
        /// The offending value.
        value: f64,
        /// The rule it breaks, in words.
        rule: String,
    },
    /// A class label is not one of the readout channels 0..n_out.
    LabelOutOfRange {
        /// The trial whose label it is.
        trial: usize,
        /// The label.
        label: usize,
        /// n_out.
        classes: usize,
    },
    /// A mask entry is outside [0, 1].
    MaskOutOfRange {
        /// Flat (C order) index into `mask`.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// The forward run produced a non-finite state.
    NonFiniteState {
        /// The quantity: `v` or `s`.
        quantity: &'static str,
        /// Time index t of the state v_t / s_t.
        step: usize,
        /// Trial in the batch.
        trial: usize,
        /// Neuron.
        neuron: usize,
    },
    /// The loss overflowed (the readout o_t is too large to square).
    NonFiniteLoss {
        /// Time index t of the readout o_t.
        step: usize,
        /// Trial in the batch.
        trial: usize,
        /// Readout channel.
        channel: usize,
    },
    /// The reverse sweep produced a non-finite costate or gradient.
    NonFiniteGradient {
        /// `lam_v`, `lam_s` (at `step`) or a gradient name (`dW`, ...).
        quantity: &'static str,
        /// Time index t of the costate, or `None` for a summed gradient.
        step: Option<usize>,
        /// Flat index (trial * N + neuron for costates, C order for gradients).
        index: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidTimeConstant { array, neuron, value, rule } => {
                write!(f, "invalid time constant: {array}[{neuron}] = {value}: {rule}")
            }
            Error::InvalidConfig { field, value, rule } => {
                // Scientific notation where plain digits would run long (1e-300, 1e300).
                let plain = *value == 0.0 || !value.is_finite() || (1e-4..1e9).contains(&value.abs());
                if plain {
                    write!(f, "invalid config: {field} = {value}: {rule}")
                } else {
                    write!(f, "invalid config: {field} = {value:e}: {rule}")
                }
            }
            Error::EmptyDimension { name } => {
                write!(f, "invalid shape: {name} is 0; every dimension must be at least 1")
            }
            Error::ShapeMismatch { array, expected, expected_len, got_len } => write!(
                f,
                "shape mismatch: {array} has {got_len} elements, expected {expected} = {expected_len}"
            ),
            Error::NonFiniteInput { array, index, value } => {
                write!(f, "non-finite input: {array}[{index}] = {value}")
            }
            Error::InvalidLoss { field, value, rule } => {
                write!(f, "invalid loss: {field} = {value}: {rule}")
            }
            Error::LabelOutOfRange { trial, label, classes } => write!(
                f,
                "label out of range: labels[{trial}] = {label}, must be a readout channel in 0..{classes}"
            ),
            Error::MaskOutOfRange { index, value } => {
                write!(f, "mask out of range: mask[{index}] = {value}, must be in [0, 1]")
            }
            Error::NonFiniteState { quantity, step, trial, neuron } => write!(
                f,
                "non-finite state: {quantity} at step {step}, trial {trial}, neuron {neuron}"
            ),
            Error::NonFiniteLoss { step, trial, channel } => write!(
                f,
                "non-finite loss: the readout error overflows at step {step}, trial {trial}, \
                 readout channel {channel}"
            ),
            Error::NonFiniteGradient { quantity, step: Some(step), index } => {
                write!(f, "non-finite gradient: {quantity} at step {step}, index {index}")
            }
            Error::NonFiniteGradient { quantity, step: None, index } => {
                write!(f, "non-finite gradient: {quantity}[{index}]")
            }
        }
    }
}

impl std::error::Error for Error {}
