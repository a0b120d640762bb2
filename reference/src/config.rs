use crate::error::Error;
use crate::gate::Gate;
use crate::neuron::{Neuron, Theta};

/// Time constants, step and gate of a simulation (docs/model.md sections 1-2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// Euler step h (ms).
    pub h: f64,
    /// Membrane time constant tau (ms).
    pub tau: f64,
    /// Synaptic time constant tau_s (ms).
    pub tau_s: f64,
    /// Gate shape and its width Delta.
    pub gate: Gate,
}

impl Config {
    /// Checks the rules of docs/model.md section 4 on the scalars for the theta neuron:
    /// h, tau, tau_s finite and > 0; h < tau_s; 0 < Delta < 2; 2h/tau <= Delta/2.
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_for(&Theta)
    }

    /// The same rules for `neuron`, whose jump rule is (h/tau) max f(1, I) <= Delta/2
    /// (docs/model.md section 5).
    pub fn validate_for(&self, neuron: &dyn Neuron) -> Result<(), Error> {
        positive_finite("h", self.h)?;
        positive_finite("tau", self.tau)?;
        positive_finite("tau_s", self.tau_s)?;
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
        // At the spike point one Euler step moves the phase by (h/tau) f(1, I).
        let speed = neuron.spike_speed();
        if !(speed.is_finite() && speed > 0.0) {
            return Err(Error::InvalidConfig {
                field: "spike_speed",
                value: speed,
                rule: format!(
                    "the neuron model {}'s max f(1, I) must be finite and > 0",
                    neuron.name()
                ),
            });
        }
        let phase_step = self.h / self.tau * speed;
        if phase_step > delta / 2.0 {
            return Err(Error::InvalidConfig {
                field: "h",
                value: self.h,
                rule: format!(
                    "a spike would jump over the gate: the phase step at the spike point is \
                     (h/tau) max f(1, I) = {phase_step}, which must be <= delta/2 = {}; use \
                     h <= tau*delta/(2 max f(1, I)) = {}",
                    delta / 2.0,
                    self.tau * delta / (2.0 * speed)
                ),
            });
        }
        Ok(())
    }

    /// Checks neuron j's time constants `tau` and `tau_s` (per-neuron, docs/model.md
    /// section 5) with this configuration's h and gate: finite and > 0, h < tau_s,
    /// (h/tau) max f(1, I) <= Delta/2.
    pub fn validate_neuron(
        &self,
        neuron: &dyn Neuron,
        j: usize,
        tau: f64,
        tau_s: f64,
    ) -> Result<(), Error> {
        let fault = |array: &'static str, value: f64, rule: String| {
            Err(Error::InvalidTimeConstant { array, neuron: j, value, rule })
        };
        for (array, value) in [("tau", tau), ("tau_s", tau_s)] {
            if !(value.is_finite() && value > 0.0) {
                return fault(array, value, "must be finite and > 0".into());
            }
        }
        let h = self.h;
        if h >= tau_s {
            let rule =
                format!("must be > h = {h} so the synaptic decay 1 - h/tau_s lies in (0, 1)");
            return fault("tau_s", tau_s, rule);
        }
        let (speed, delta) = (neuron.spike_speed(), self.gate.delta());
        let phase_step = h / tau * speed;
        if phase_step > delta / 2.0 {
            let rule = format!(
                "a spike would jump over the gate: the phase step at the spike point is \
                 (h/tau) max f(1, I) = {phase_step}, which must be <= delta/2 = {}; use \
                 tau >= 2 h max f(1, I)/delta = {}",
                delta / 2.0,
                2.0 * h * speed / delta
            );
            return fault("tau", tau, rule);
        }
        Ok(())
    }
}

fn positive_finite(field: &'static str, value: f64) -> Result<(), Error> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig { field, value, rule: "must be finite and > 0".into() })
    }
}
