use crate::config::Config;
use crate::error::Error;
use crate::network::{validate_data, Batch, Network};
use crate::neuron::{Neuron, Theta};

/// The states of a forward run, laid out like the batch: `v[t][b * n + i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// v_0 .. v_T, each (B, N).
    pub v: Vec<Vec<f64>>,
    /// s_0 .. s_T, each (B, N).
    pub s: Vec<Vec<f64>>,
    /// I_0 .. I_{T-1}, each (B, N).
    pub i: Vec<Vec<f64>>,
}

/// Result of [`forward`].
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// L of MODEL.md section 2.
    pub loss: f64,
    /// The states, when asked for.
    pub trajectory: Option<Trajectory>,
}

/// I_t = I0 + W s_t + U x_t for every trial (MODEL.md section 2).
pub(crate) fn input_current(net: &Network, batch: &Batch, t: usize, s: &[f64]) -> Vec<f64> {
    let (n, n_in) = (net.n, net.n_in);
    let mut current = vec![0.0; batch.b * n];
    for b in 0..batch.b {
        let x = &batch.x[(t * batch.b + b) * n_in..][..n_in];
        for i in 0..n {
            let mut sum = net.i0[i];
            for j in 0..n {
                sum += net.w[i * n + j] * s[b * n + j];
            }
            for k in 0..n_in {
                sum += net.u[i * n_in + k] * x[k];
            }
            current[b * n + i] = sum;
        }
    }
    current
}

/// o = O s for every trial; returns (B, n_out).
pub(crate) fn readout(net: &Network, n_trials: usize, s: &[f64]) -> Vec<f64> {
    let (n, n_out) = (net.n, net.n_out);
    let mut o = vec![0.0; n_trials * n_out];
    for b in 0..n_trials {
        for k in 0..n_out {
            let mut sum = 0.0;
            for i in 0..n {
                sum += net.o[k * n + i] * s[b * n + i];
            }
            o[b * n_out + k] = sum;
        }
    }
    o
}

/// Runs MODEL.md section 2 over the batch: the Euler steps from (v_0, s_0) and the loss
/// L = (1/B) sum_b sum_{t=1..T} h/2 sum_k m_{t,k} (o_{t,k} - ohat_{t,k})^2.
/// With `record`, also returns every v_t, s_t and I_t.
pub fn forward(cfg: &Config, net: &Network, batch: &Batch, record: bool) -> Result<Forward, Error> {
    cfg.validate()?;
    validate_data(net, batch)?;
    let neuron = Theta;
    let (n, n_out, nb) = (net.n, net.n_out, batch.b);
    let decay = 1.0 - cfg.h / cfg.tau_s;

    let mut v = batch.v0.clone();
    let mut s = batch.s0.clone();
    let mut trajectory =
        record.then(|| Trajectory { v: vec![v.clone()], s: vec![s.clone()], i: Vec::new() });
    let mut loss = 0.0;
    for t in 0..batch.t {
        let current = input_current(net, batch, t, &s);
        let mut v_next = vec![0.0; nb * n];
        let mut s_next = vec![0.0; nb * n];
        for idx in 0..nb * n {
            let dv = cfg.h / cfg.tau * neuron.f(v[idx], current[idx]);
            v_next[idx] = neuron.wrap(v[idx] + dv);
            // The gate multiplies the unwrapped increment dv, not v_{t+1} - v_t.
            s_next[idx] = decay * s[idx] + cfg.gate.g(v[idx]) * dv / cfg.tau_s;
        }
        for (quantity, state) in [("v", &v_next), ("s", &s_next)] {
            if let Some(idx) = state.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFiniteState {
                    quantity,
                    step: t + 1,
                    trial: idx / n,
                    neuron: idx % n,
                });
            }
        }
        let o = readout(net, nb, &s_next);
        for b in 0..nb {
            for k in 0..n_out {
                let at = (t * nb + b) * n_out + k;
                let r = o[b * n_out + k] - batch.target[at];
                loss += cfg.h * 0.5 * batch.mask[at] * r * r / nb as f64;
                if !loss.is_finite() {
                    return Err(Error::NonFiniteLoss { step: t + 1, trial: b, channel: k });
                }
            }
        }
        v = v_next;
        s = s_next;
        if let Some(tr) = trajectory.as_mut() {
            tr.v.push(v.clone());
            tr.s.push(s.clone());
            tr.i.push(current);
        }
    }
    Ok(Forward { loss, trajectory })
}
