use crate::error::Error;
use crate::gate::Gate;

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

    /// The rules of docs/model.md section 4 on the scalars: h, tau, tau_s finite and > 0;
    /// h < tau_s; 0 < Delta < 2; a spike must not jump over the gate, 2h/tau <= Delta/2.
    pub fn validate(&self) -> Result<(), Error> {
        for (field, value) in [("h", self.h), ("tau", self.tau), ("tau_s", self.tau_s)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::InvalidConfig {
                    field,
                    value,
                    rule: "must be finite and > 0".into(),
                });
            }
        }
        if self.h >= self.tau_s {
            return Err(Error::InvalidConfig {
                field: "h",
                value: self.h,
                rule: format!(
                    "must be < tau_s = {} so the synaptic decay 1 - h/tau_s lies in (0, 1)",
                    self.tau_s
                ),
            });
        }
        let delta = self.gate.delta();
        if !(delta > 0.0 && delta < 2.0) {
            return Err(Error::InvalidConfig {
                field: "delta",
                value: delta,
                rule: "the gate width must satisfy 0 < delta < 2".into(),
            });
        }
        let phase_step = 2.0 * self.h / self.tau;
        if phase_step > delta / 2.0 {
            return Err(Error::InvalidConfig {
                field: "h",
                value: self.h,
                rule: format!(
                    "a spike would jump over the gate: the phase step at the spike point is \
                     2h/tau = {phase_step}, which must be <= delta/2 = {}; use h <= tau*delta/4 = {}",
                    delta / 2.0,
                    self.tau * delta / 4.0
                ),
            });
        }
        Ok(())
    }
}
