use crate::error::Error;
use crate::gate::Gate;
use crate::neuron::{Neuron, Theta};

/// Step, time constants and gate of a simulation (docs/model.md sections 1-2), in ms.
///
/// Built with [`Config::new`]; the fields are public to read.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Config {
    /// Euler step h.
    pub h: f64,
    /// Membrane time constant tau.
    pub tau: f64,
    /// Synaptic time constant tau_s.
    pub tau_s: f64,
    /// Gate shape and width Delta.
    pub gate: Gate,
}

impl Config {
    /// A configuration of step `h`, membrane and synaptic time constants `tau` and
    /// `tau_s` (all in ms) and `gate`. Not validated here: [`Config::validate`] (or
    /// [`Step::new`](crate::Step::new), which calls it) says what is wrong.
    ///
    /// ```
    /// use spikegrad::{Config, Gate};
    /// let config = Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
    /// assert!(config.validate().is_ok());
    /// assert!(Config::new(1.0, 20.0, 0.5, Gate::RaisedCosine { delta: 1.0 }).validate().is_err());
    /// ```
    pub fn new(h: f64, tau: f64, tau_s: f64, gate: Gate) -> Self {
        Config { h, tau, tau_s, gate }
    }

    /// The rules of docs/model.md section 4 on the scalars, for the theta neuron:
    /// h, tau, tau_s finite and > 0; h < tau_s; 0 < Delta < 2; a spike must not jump
    /// over the gate, 2h/tau <= Delta/2. [`Config::validate_for`] with [`Theta`].
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_for(Theta)
    }

    /// The rules of docs/model.md sections 4 and 5 on the scalars for `neuron`: as
    /// [`Config::validate`], with the jump rule (h/tau) max_I f(1, I) <= Delta/2 on the
    /// model's own [`spike_speed`](Neuron::spike_speed).
    ///
    /// ```
    /// use spikegrad::{Config, Gate, HopfPhase};
    /// // (h/tau) 2 = 0.6 > Delta/2 for the theta neuron; (h/tau) 1 = 0.3 is fine for Hopf.
    /// let config = Config::new(3.0, 10.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
    /// assert!(config.validate().is_err());
    /// assert!(config.validate_for(HopfPhase).is_ok());
    /// ```
    pub fn validate_for<N: Neuron>(&self, neuron: N) -> Result<(), Error> {
        let (h, delta) = (self.h, self.gate.delta());
        let fault = time_constant_fault(h, self.tau, self.tau_s, delta, neuron.spike_speed());
        let Some(fault) = fault else { return Ok(()) };
        let (field, value, rule) = match fault {
            Fault::NotPositive { field, value } => (field, value, "must be finite and > 0".into()),
            Fault::Decay => (
                "h",
                h,
                format!(
                    "must be < tau_s = {} so the synaptic decay 1 - h/tau_s lies in (0, 1)",
                    self.tau_s
                ),
            ),
            Fault::Width => {
                ("delta", delta, "the gate width must satisfy 0 < delta < 2".to_string())
            }
            Fault::Speed(value) => (
                "spike_speed",
                value,
                format!("the neuron model {}'s max f(1, I) must be finite and > 0", N::NAME),
            ),
            Fault::Jump { phase_step, speed } => (
                "h",
                h,
                format!(
                    "a spike would jump over the gate: the phase step at the spike point is \
                     (h/tau) max f(1, I) = {phase_step}, which must be <= delta/2 = {}; use \
                     h <= tau*delta/(2 max f(1, I)) = {}",
                    delta / 2.0,
                    self.tau * delta / (2.0 * speed)
                ),
            ),
        };
        Err(Error::InvalidConfig { field, value, rule })
    }

    /// The rules of docs/model.md sections 4-5 on neuron `j`'s own constants `tau` =
    /// tau_j and `tau_s` = tau_s,j (section 5's per-neuron constants) with this
    /// configuration's h and gate and `neuron`'s spike speed: both finite and > 0,
    /// tau_s,j > h, and (h/tau_j) max f(1, I) <= Delta/2. The rules of the configuration
    /// itself (the width, the spike speed) are [`Config::validate_for`]'s, not checked
    /// here. The sweeps check every neuron this way before they run.
    ///
    /// # Errors
    /// [`Error::InvalidTimeConstant`] naming the array (`tau` or `tau_s`), the neuron,
    /// the value and the rule, for the first rule broken.
    ///
    /// ```
    /// use spikegrad::{Config, Error, Gate, Theta};
    /// let config = Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
    /// assert!(config.validate_neuron_constants(Theta, 3, 10.0, 2.0).is_ok());
    /// let err = config.validate_neuron_constants(Theta, 3, 10.0, 0.5).unwrap_err();
    /// assert!(matches!(err, Error::InvalidTimeConstant { array: "tau_s", neuron: 3, .. }));
    /// ```
    pub fn validate_neuron_constants<N: Neuron>(
        &self,
        neuron: N,
        j: usize,
        tau: f64,
        tau_s: f64,
    ) -> Result<(), Error> {
        let (h, delta) = (self.h, self.gate.delta());
        let fault = |array: &'static str, value: f64, rule: String| {
            Err(Error::InvalidTimeConstant { array, neuron: j, value, rule })
        };
        match time_constant_fault(h, tau, tau_s, delta, neuron.spike_speed()) {
            None | Some(Fault::Width | Fault::Speed(_)) => Ok(()),
            Some(Fault::NotPositive { field, value }) => {
                let array = if field == "tau_s" { "tau_s" } else { "tau" };
                fault(array, value, "must be finite and > 0".into())
            }
            Some(Fault::Decay) => fault(
                "tau_s",
                tau_s,
                format!("must be > h = {h} so the synaptic decay 1 - h/tau_s lies in (0, 1)"),
            ),
            Some(Fault::Jump { phase_step, speed }) => fault(
                "tau",
                tau,
                format!(
                    "a spike would jump over the gate: the phase step at the spike point is \
                     (h/tau) max f(1, I) = {phase_step}, which must be <= delta/2 = {}; use \
                     tau >= 2 h max f(1, I)/delta = {}",
                    delta / 2.0,
                    2.0 * h * speed / delta
                ),
            ),
        }
    }
}

/// The first rule of docs/model.md sections 4-5 a set of constants breaks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fault {
    /// `field` (`h`, `tau`, `tau_s`) is not finite and > 0.
    NotPositive { field: &'static str, value: f64 },
    /// h >= tau_s: the synaptic decay 1 - h/tau_s leaves (0, 1).
    Decay,
    /// Delta is not in (0, 2).
    Width,
    /// The neuron's spike speed max f(1, I) is not finite and > 0.
    Speed(f64),
    /// (h/tau) max f(1, I) = `phase_step` > Delta/2: a spike would jump over the gate.
    Jump { phase_step: f64, speed: f64 },
}

/// The first rule of docs/model.md sections 4-5 that step `h`, membrane and synaptic time
/// constants `tau`, `tau_s`, gate width `delta` and spike speed max_I f(1, I) break, if
/// any, in a fixed order (positivity, decay, width, spike speed, jump). One function for the shared
/// constants and for each neuron's, so both are held to the same rules; each caller
/// words the fault for what it checks.
pub(crate) fn time_constant_fault(
    h: f64,
    tau: f64,
    tau_s: f64,
    delta: f64,
    speed: f64,
) -> Option<Fault> {
    for (field, value) in [("h", h), ("tau", tau), ("tau_s", tau_s)] {
        if !(value.is_finite() && value > 0.0) {
            return Some(Fault::NotPositive { field, value });
        }
    }
    if h >= tau_s {
        return Some(Fault::Decay);
    }
    if !(delta > 0.0 && delta < 2.0) {
        return Some(Fault::Width);
    }
    if !(speed.is_finite() && speed > 0.0) {
        return Some(Fault::Speed(speed));
    }
    let phase_step = h / tau * speed;
    (phase_step > delta / 2.0).then_some(Fault::Jump { phase_step, speed })
}
