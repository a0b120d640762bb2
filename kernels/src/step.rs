//! The step-level API: one time step of the forward or reverse sweep on plain slices,
//! for another simulator to call on its own buffers.

use crate::config::Config;
use crate::error::Error;
use crate::gate::{BoxcarKernel, Gate, RaisedCosineKernel};
use crate::neuron::{Neuron, Theta};
use crate::real::{first_non_finite, Real};
use crate::simd::backend::Backend;
use crate::simd::walk::Elementwise;
use crate::simd::{
    Atan2Rule, ConstantsRule, ForwardRule, PerNeuronConstants, ReverseRule, SinCosPiRule,
    StepConstants,
};

/// A validated configuration compiled for the kernels: the neuron model `N`, h/tau,
/// 1 - h/tau_s, 1/tau_s and the gate in precision `T`, plus the SIMD backend that runs
/// them. The sweeps are monomorphised per neuron model and gate shape.
///
/// `Step::<f32>::new(&config)` runs the theta neuron; another model, built in
/// ([`HopfPhase`](crate::HopfPhase)) or the caller's own [`Neuron`], comes in through
/// [`Step::with_neuron`]:
///
/// ```
/// use spikegrad::{Config, Gate, HopfPhase, Step};
/// let config = Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
/// let theta = Step::<f32>::new(&config)?;
/// let hopf = Step::<f64, HopfPhase>::with_neuron(&config, HopfPhase)?;
/// assert_eq!(hopf.neuron_name(), "hopf_phase");
/// # let _ = theta;
/// # Ok::<(), spikegrad::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Step<T: Real, N: Neuron = Theta> {
    config: Config,
    neuron: N,
    constants: StepConstants<T>,
    gate: CompiledGate<T>,
    backend: Backend,
}

#[derive(Debug, Clone, Copy)]
enum CompiledGate<T> {
    Boxcar(BoxcarKernel<T>),
    RaisedCosine(RaisedCosineKernel<T>),
}

/// Runs `$body` with `$gate` bound to the concrete gate kernel and `$c` to the step's
/// shared constants or the per-neuron ones, so that each gate shape and each source of
/// constants gets its own monomorphised kernel.
macro_rules! with_kernel {
    ($step:expr, $per_neuron:expr, |$gate:ident, $c:ident| $body:expr) => {
        match ($step.gate, $per_neuron) {
            (CompiledGate::Boxcar($gate), None) => {
                let $c = $step.constants;
                $body
            }
            (CompiledGate::RaisedCosine($gate), None) => {
                let $c = $step.constants;
                $body
            }
            (CompiledGate::Boxcar($gate), Some($c)) => $body,
            (CompiledGate::RaisedCosine($gate), Some($c)) => $body,
        }
    };
}

impl<T: Real> Step<T, Theta> {
    /// Validates `config` for the theta neuron (docs/model.md section 4) and compiles it
    /// for the fastest backend of this CPU.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the field and the rule it breaks: h, tau, tau_s
    /// finite and positive, h < tau_s, a gate width in (0, 2), and the jump rule
    /// (h/tau) max f <= Delta/2, so that no phase steps over the gate.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Config, Error, Gate, Step};
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// assert_eq!(step.config().tau, 20.0);
    /// let too_coarse = Config::new(10.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
    /// assert!(matches!(Step::<f32>::new(&too_coarse), Err(Error::InvalidConfig { .. })));
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::with_backend(config, Backend::detect())
    }

    /// As [`Step::new`], on a chosen backend.
    pub fn with_backend(config: &Config, backend: Backend) -> Result<Self, Error> {
        Self::with_neuron_and_backend(config, Theta, backend)
    }
}

impl<T: Real, N: Neuron> Step<T, N> {
    /// Validates `config` for the neuron model `neuron` (docs/model.md sections 4-5: the
    /// jump rule uses its [`spike_speed`](Neuron::spike_speed)) and compiles it for the
    /// fastest backend of this CPU.
    pub fn with_neuron(config: &Config, neuron: N) -> Result<Self, Error> {
        Self::with_neuron_and_backend(config, neuron, Backend::detect())
    }

    /// As [`Step::with_neuron`], on a chosen backend.
    pub fn with_neuron_and_backend(
        config: &Config,
        neuron: N,
        backend: Backend,
    ) -> Result<Self, Error> {
        config.validate_for(neuron)?;
        let gate = match config.gate {
            Gate::Boxcar { delta } => CompiledGate::Boxcar(BoxcarKernel::new(delta)),
            Gate::RaisedCosine { delta } => {
                CompiledGate::RaisedCosine(RaisedCosineKernel::new(delta))
            }
        };
        let delta = config.gate.delta();
        // A valid configuration can still leave T's range: h/tau = 1e-330 is 0 in f32,
        // 1/Delta = 1e96 is infinite, and h (which scales every readout error) below
        // f32's normal range zeroes the gradient. Such constants would give silently
        // wrong results. Each is reported against the field it derives from.
        for (field, field_value, name, value) in [
            ("h", config.h, "h", config.h),
            ("h", config.h, "h/tau", config.h / config.tau),
            ("tau_s", config.tau_s, "1/tau_s", 1.0 / config.tau_s),
            ("delta", delta, "Delta/2", delta / 2.0),
            ("delta", delta, "2 pi/Delta^2", 2.0 * core::f64::consts::PI / (delta * delta)),
        ] {
            let compiled = T::from_f64(value);
            if !(compiled.is_finite() && compiled >= T::MIN_POSITIVE) {
                return Err(Error::InvalidConfig {
                    field,
                    value: field_value,
                    rule: format!(
                        "{name} = {value:e} is not a normal {} number: rescale the time constants",
                        T::NAME
                    ),
                });
            }
        }
        let constants = StepConstants {
            k: T::from_f64(config.h / config.tau),
            decay: T::from_f64(1.0 - config.h / config.tau_s),
            inv_tau_s: T::from_f64(1.0 / config.tau_s),
        };
        Ok(Step { config: *config, neuron, constants, gate, backend })
    }

    /// The configuration this was compiled from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The backend that runs the kernels.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The neuron model.
    pub fn neuron(&self) -> N {
        self.neuron
    }

    /// The neuron model's name ([`Neuron::NAME`]).
    pub fn neuron_name(&self) -> &'static str {
        N::NAME
    }

    /// Forward kernel without length checks, on the shared constants or on `per_neuron`
    /// ones (as long as the state); returns whether every output is finite.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn forward_unchecked(
        &self,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        v: &[T],
        s: &[T],
        current: &[T],
        v_next: &mut [T],
        s_next: &mut [T],
    ) -> bool {
        let neuron = self.neuron;
        with_kernel!(self, per_neuron, |gate, c| self.backend.dispatch(Elementwise {
            rule: ForwardRule { neuron, gate, c },
            inputs: [v, s, current],
            outputs: [v_next, s_next],
        }))
    }

    /// Reverse kernel without length checks; returns whether every output and
    /// `lam_s_next` are finite.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reverse_unchecked(
        &self,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        v: &[T],
        current: &[T],
        lam_s_next: &[T],
        d: &[T],
        lam_v: &mut [T],
        e: &mut [T],
        lam_s: &mut [T],
    ) -> bool {
        let neuron = self.neuron;
        with_kernel!(self, per_neuron, |gate, c| self.backend.dispatch(Elementwise {
            rule: ReverseRule { neuron, gate, c },
            inputs: [v, current, lam_s_next, d],
            outputs: [lam_v, e, lam_s],
        }))
    }
}

impl<T: Real, N: Neuron> Step<T, N> {
    /// Adds one reverse step's share of the gradients of the constants into the three
    /// sums (see [`ConstantsRule`]), without length checks. Called before the reverse
    /// kernel, which overwrites `lam_v_next`.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn constants_unchecked(
        &self,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        v: &[T],
        s: &[T],
        current: &[T],
        lam_v_next: &[T],
        lam_s_next: &[T],
        sums: [&mut [T]; 3],
    ) {
        let (neuron, h) = (self.neuron, T::from_f64(self.config.h));
        with_kernel!(self, per_neuron, |gate, c| self.backend.dispatch(Elementwise {
            rule: ConstantsRule { neuron, gate, c, h },
            inputs: [v, s, current, lam_v_next, lam_s_next],
            outputs: sums,
        }));
    }
}

fn check_len(array: &'static str, got: usize, expected: usize, of: &str) -> Result<(), Error> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            array,
            expected: format!("the length of {of}"),
            expected_len: expected,
            got_len: got,
        })
    }
}

/// [`Error::NonFiniteOutput`] at the first NaN or infinity of `values`, if any.
fn check_output<T: Real>(quantity: &'static str, values: &[T]) -> Result<(), Error> {
    match first_non_finite(values) {
        Some(index) => Err(Error::NonFiniteOutput { quantity, index }),
        None => Ok(()),
    }
}

/// The fused forward Euler step of docs/model.md section 2, elementwise over any number of
/// neurons and trials (all slices the same length), given the input current I_t:
///
/// ```text
/// dv_t    = (h/tau) f(v_t, I_t)
/// v_{t+1} = wrap(v_t + dv_t)
/// s_{t+1} = (1 - h/tau_s) s_t + g(v_t) dv_t / tau_s
/// ```
///
/// Errors if the lengths differ or an output is not finite.
///
/// # Example
/// ```
/// use spikegrad::{forward_step, Config, Gate, Step};
///
/// let config = Config::new(0.5, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
/// let step = Step::<f32>::new(&config)?;
/// let (v, s, current) = ([0.9f32, -0.4], [0.0f32, 0.0], [0.2f32, -0.5]);
/// let (mut v_next, mut s_next) = ([0.0f32; 2], [0.0f32; 2]);
/// forward_step(&step, &v, &s, &current, &mut v_next, &mut s_next)?;
/// assert!(s_next[0] > 0.0); // the first neuron is inside the gate: it deposits charge
/// assert_eq!(s_next[1], 0.0); // the second rests far from it
/// # Ok::<(), spikegrad::Error>(())
/// ```
pub fn forward_step<T: Real, N: Neuron>(
    step: &Step<T, N>,
    v: &[T],
    s: &[T],
    current: &[T],
    v_next: &mut [T],
    s_next: &mut [T],
) -> Result<(), Error> {
    check_len("s", s.len(), v.len(), "v")?;
    check_len("current", current.len(), v.len(), "v")?;
    check_len("v_next", v_next.len(), v.len(), "v")?;
    check_len("s_next", s_next.len(), v.len(), "v")?;
    if !step.forward_unchecked(None, v, s, current, v_next, s_next) {
        check_output("v_next", v_next)?;
        check_output("s_next", s_next)?;
    }
    Ok(())
}

/// The fused reverse costate step of docs/model.md section 3, elementwise, given the state
/// v_t, I_t of the forward run, lam_v_{t+1} (in `lam_v`, overwritten with lam_v_t),
/// lam_s_{t+1} and the readout error d_t:
///
/// ```text
/// a_t     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
/// e_t     = (h/tau) df/dI(v_t, I_t) a_t
/// lam_v_t = lam_v_{t+1} + (h/tau) df/dv(v_t, I_t) a_t + g'(v_t) dv_t lam_s_{t+1} / tau_s
/// lam_s   = (1 - h/tau_s) lam_s_{t+1} + d_t
/// ```
///
/// The caller completes lam_s_t = lam_s + W^T e_t with a matrix product. Errors if the
/// lengths differ or an output (or `lam_s_next`) is not finite.
///
/// # Example
/// ```
/// use spikegrad::{reverse_step, Config, Gate, Step};
///
/// let config = Config::new(0.5, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
/// let step = Step::<f64>::new(&config)?;
/// let (v, current, lam_s_next, d) = ([0.9, -0.4], [0.2, -0.5], [1.0, 1.0], [0.0, 0.0]);
/// let mut lam_v = [0.0, 0.0];
/// let (mut e, mut lam_s) = ([0.0; 2], [0.0; 2]);
/// reverse_step(&step, &v, &current, &mut lam_v, &lam_s_next, &d, &mut e, &mut lam_s)?;
/// assert!(e[0] != 0.0 && e[1] == 0.0); // only the neuron inside the gate feels lam_s
/// assert_eq!(lam_s[1], 1.0 - 0.5 / 50.0);
/// # Ok::<(), spikegrad::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn reverse_step<T: Real, N: Neuron>(
    step: &Step<T, N>,
    v: &[T],
    current: &[T],
    lam_v: &mut [T],
    lam_s_next: &[T],
    d: &[T],
    e: &mut [T],
    lam_s: &mut [T],
) -> Result<(), Error> {
    check_len("current", current.len(), v.len(), "v")?;
    check_len("lam_v", lam_v.len(), v.len(), "v")?;
    check_len("lam_s_next", lam_s_next.len(), v.len(), "v")?;
    check_len("d", d.len(), v.len(), "v")?;
    check_len("e", e.len(), v.len(), "v")?;
    check_len("lam_s", lam_s.len(), v.len(), "v")?;
    if !step.reverse_unchecked(None, v, current, lam_s_next, d, lam_v, e, lam_s) {
        check_output("lam_s_next", lam_s_next)?;
        check_output("lam_v", lam_v)?;
        check_output("e", e)?;
        check_output("lam_s", lam_s)?;
    }
    Ok(())
}

/// atan2(y, x) elementwise, with the polynomial of the theta neuron's midpoint step
/// ([`ThetaMidpoint`](crate::ThetaMidpoint); accurate to
/// [`ATAN2_ULP_BOUND_F32`](crate::ATAN2_ULP_BOUND_F32) and
/// [`ATAN2_ULP_BOUND_F64`](crate::ATAN2_ULP_BOUND_F64) ulps), on `backend`.
pub fn atan2<T: Real>(backend: Backend, y: &[T], x: &[T], angle: &mut [T]) -> Result<(), Error> {
    check_len("x", x.len(), y.len(), "y")?;
    check_len("angle", angle.len(), y.len(), "y")?;
    backend.dispatch(Elementwise { rule: Atan2Rule, inputs: [y, x], outputs: [angle] });
    Ok(())
}

/// sin(pi x) and cos(pi x) for x in [-1, 1), elementwise, with the polynomial the
/// kernels use (accurate to [`SIN_PI_ULP_BOUND_F32`](crate::SIN_PI_ULP_BOUND_F32) and [`SIN_PI_ULP_BOUND_F64`](crate::SIN_PI_ULP_BOUND_F64) ulps), on `backend`.
pub fn sin_cos_pi<T: Real>(
    backend: Backend,
    x: &[T],
    sin: &mut [T],
    cos: &mut [T],
) -> Result<(), Error> {
    check_len("sin", sin.len(), x.len(), "x")?;
    check_len("cos", cos.len(), x.len(), "x")?;
    backend.dispatch(Elementwise { rule: SinCosPiRule, inputs: [x], outputs: [sin, cos] });
    Ok(())
}
