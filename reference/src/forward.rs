use crate::config::Config;
use crate::error::Error;
use crate::loss::Loss;
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
    /// o_1 .. o_T, each (B, n_out).
    pub o: Vec<Vec<f64>>,
}

/// I_t = I0 + W_eff s_t + U x_t + I_ext,t for every trial (docs/model.md sections 2, 5).
pub(crate) fn input_current(net: &Network, batch: &Batch, t: usize, s: &[f64]) -> Vec<f64> {
    let (n, n_in) = (net.n, net.n_in);
    let mut current = vec![0.0; batch.b * n];
    for b in 0..batch.b {
        let x = &batch.x[(t * batch.b + b) * n_in..][..n_in];
        for i in 0..n {
            let mut sum = net.i0[i];
            for j in 0..n {
                sum += net.w_eff(i, j) * s[b * n + j];
            }
            for k in 0..n_in {
                sum += net.u[i * n_in + k] * x[k];
            }
            if let Some(i_ext) = &batch.i_ext {
                sum += i_ext[(t * batch.b + b) * n + i];
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

/// Runs docs/model.md section 2 (with the additions of section 5) over the batch for the
/// theta neuron: [`forward_with`] and [`Theta`].
pub fn forward(cfg: &Config, net: &Network, batch: &Batch) -> Result<Trajectory, Error> {
    forward_with(cfg, net, batch, &Theta)
}

/// Checks the configuration, the per-neuron time constants (docs/model.md sections 4-5)
/// and the data for `neuron`.
pub(crate) fn validate_all(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    neuron: &dyn Neuron,
) -> Result<(), Error> {
    cfg.validate_for(neuron)?;
    validate_data(net, batch)?;
    for j in 0..net.n {
        cfg.validate_neuron(neuron, j, net.tau_of(cfg, j), net.tau_s_of(cfg, j))?;
    }
    Ok(())
}

/// Runs docs/model.md section 2 (with the additions of section 5: per-neuron tau_j and
/// tau_s,j, mask, external current) over the batch for `neuron`: the Euler steps from
/// (v_0, s_0), recording every v_t, s_t, I_t and o_t.
pub fn forward_with(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    neuron: &dyn Neuron,
) -> Result<Trajectory, Error> {
    validate_all(cfg, net, batch, neuron)?;
    let (n, nb) = (net.n, batch.b);

    // v_0 is a phase: taken modulo 2 into [-1, 1) before the first step.
    let v0 = batch.v0.iter().map(|&v| neuron.wrap(v)).collect();
    let mut tr = Trajectory { v: vec![v0], s: vec![batch.s0.clone()], i: vec![], o: vec![] };
    for t in 0..batch.t {
        let (v, s) = (&tr.v[t], &tr.s[t]);
        let current = input_current(net, batch, t, s);
        let mut v_next = vec![0.0; nb * n];
        let mut s_next = vec![0.0; nb * n];
        for idx in 0..nb * n {
            let (tau, tau_s) = (net.tau_of(cfg, idx % n), net.tau_s_of(cfg, idx % n));
            let dv = neuron.increment(v[idx], current[idx], cfg.h / tau);
            v_next[idx] = neuron.wrap(v[idx] + dv);
            // The gate multiplies the unwrapped increment dv, not v_{t+1} - v_t.
            s_next[idx] = (1.0 - cfg.h / tau_s) * s[idx] + cfg.gate.g(v[idx]) * dv / tau_s;
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
        tr.o.push(readout(net, nb, &s_next));
        tr.v.push(v_next);
        tr.s.push(s_next);
        tr.i.push(current);
    }
    Ok(tr)
}

/// The loss L = L_task + lambda R of docs/model.md section 6 for a run of `net` on
/// `batch`, for the theta neuron.
pub fn loss(cfg: &Config, net: &Network, batch: &Batch, loss: &Loss) -> Result<f64, Error> {
    loss_with(cfg, net, batch, loss, &Theta)
}

/// [`loss`] for `neuron`.
pub fn loss_with(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    loss: &Loss,
    neuron: &dyn Neuron,
) -> Result<f64, Error> {
    // The order of the checks is the kernels': configuration, data, loss, then each
    // neuron's time constants (in forward_with).
    cfg.validate_for(neuron)?;
    validate_data(net, batch)?;
    loss.validate(batch.t, batch.b, net.n_out)?;
    let tr = forward_with(cfg, net, batch, neuron)?;
    Ok(loss.evaluate(cfg.h, batch.b, &tr.o, &tr.s)?.loss)
}
