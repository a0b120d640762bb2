use crate::neuron::wrap;
use std::f64::consts::PI;

/// The synaptic gate g(v) and its width Delta (docs/model.md section 1, "Gate functions").
/// Both shapes are non-negative and integrate to 1 over one turn of the phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gate {
    /// g = 1/Delta on |x| < Delta/2 (x = v - 1 wrapped), else 0; g' = 0 a.e.
    Boxcar {
        /// Width of the active zone, in (0, 2).
        delta: f64,
    },
    /// g = (1 + cos(2 pi x / Delta)) / Delta on |x| < Delta/2, else 0 (C^1).
    RaisedCosine {
        /// Width of the active zone, in (0, 2).
        delta: f64,
    },
}

impl Gate {
    /// The width Delta of the active zone.
    pub fn delta(&self) -> f64 {
        match *self {
            Gate::Boxcar { delta } | Gate::RaisedCosine { delta } => delta,
        }
    }

    /// g(v).
    pub fn g(&self, v: f64) -> f64 {
        let x = wrap(v - 1.0);
        match *self {
            Gate::Boxcar { delta } => {
                if x.abs() < delta / 2.0 {
                    1.0 / delta
                } else {
                    0.0
                }
            }
            Gate::RaisedCosine { delta } => {
                if x.abs() < delta / 2.0 {
                    (1.0 + (2.0 * PI * x / delta).cos()) / delta
                } else {
                    0.0
                }
            }
        }
    }

    /// dg/dv at v.
    pub fn dg_dv(&self, v: f64) -> f64 {
        let x = wrap(v - 1.0);
        match *self {
            Gate::Boxcar { .. } => 0.0,
            Gate::RaisedCosine { delta } => {
                if x.abs() < delta / 2.0 {
                    -(2.0 * PI / (delta * delta)) * (2.0 * PI * x / delta).sin()
                } else {
                    0.0
                }
            }
        }
    }

    /// dg/dDelta at v (docs/model.md section 7): for the raised cosine, with
    /// u = 2 pi x / Delta inside the zone, (u sin u - (1 + cos u)) / Delta^2, else 0;
    /// `None` for the boxcar, whose loss jumps when a phase crosses the zone's edge.
    pub fn dg_ddelta(&self, v: f64) -> Option<f64> {
        let x = wrap(v - 1.0);
        match *self {
            Gate::Boxcar { .. } => None,
            Gate::RaisedCosine { delta } => Some(if x.abs() < delta / 2.0 {
                let u = 2.0 * PI * x / delta;
                (u * u.sin() - (1.0 + u.cos())) / (delta * delta)
            } else {
                0.0
            }),
        }
    }
}
