use crate::error::Error;
use crate::gate::Gate;

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
    /// Checks the rules of docs/model.md section 4 on the scalars:
    /// h, tau, tau_s finite and > 0; h < tau_s; 0 < Delta < 2; 2h/tau <= Delta/2.
    pub fn validate(&self) -> Result<(), Error> {
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
        // At the spike point f = 2 whatever I, so one Euler step moves the phase by 2h/tau.
        if 2.0 * self.h / self.tau > delta / 2.0 {
            return Err(Error::InvalidConfig {
                field: "h",
                value: self.h,
                rule: format!(
                    "a spike would jump over the gate: the phase step at the spike point is \
                     2h/tau = {}, which must be <= delta/2 = {}; use h <= tau*delta/4 = {}",
                    2.0 * self.h / self.tau,
                    delta / 2.0,
                    self.tau * delta / 4.0
                ),
            });
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
