use crate::config::Config;
use crate::error::Error;
use crate::forward::{forward, readout};
use crate::network::{Batch, Network};
use crate::neuron::{Neuron, Theta};

/// dL/d(everything) of MODEL.md section 3, in the layouts of [`Network`] and [`Batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    /// The loss L at which the gradient was taken.
    pub loss: f64,
    /// dL/dW, (N, N).
    pub w: Vec<f64>,
    /// dL/dU, (N, n_in).
    pub u: Vec<f64>,
    /// dL/dI0, (N).
    pub i0: Vec<f64>,
    /// dL/dO, (n_out, N).
    pub o: Vec<f64>,
    /// dL/dv_0 = lam_v_0, (B, N).
    pub v0: Vec<f64>,
    /// dL/ds_0 = lam_s_0, (B, N).
    pub s0: Vec<f64>,
}

/// The exact gradient of the discrete loss by the reverse costate sweep of MODEL.md
/// section 3: a recorded forward run, then for t = T-1 down to 0
///
/// ```text
/// a_t     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
/// e_t     = (h/tau) df/dI(v_t, I_t) a_t
/// lam_v_t = lam_v_{t+1} + (h/tau) df/dv(v_t, I_t) a_t + g'(v_t) dv_t lam_s_{t+1} / tau_s
/// lam_s_t = (1 - h/tau_s) lam_s_{t+1} + W^T e_t + d_t
/// ```
///
/// with d_t = (h/B) O^T (m_t * (o_t - ohat_t)), lam_v_T = 0, lam_s_T = d_T, and
/// dL/dW = sum_t e_t s_t^T, dL/dU = sum_t e_t x_t^T, dL/dI0 = sum_t e_t,
/// dL/dO = sum_{t=1..T} (h/B)(m_t * (o_t - ohat_t)) s_t^T.
pub fn gradient(cfg: &Config, net: &Network, batch: &Batch) -> Result<Gradient, Error> {
    let fwd = forward(cfg, net, batch, true)?;
    let tr = fwd.trajectory.expect("forward records when asked to");
    let neuron = Theta;
    let (n, n_in, n_out, nb) = (net.n, net.n_in, net.n_out, batch.b);
    let (h, tau, tau_s) = (cfg.h, cfg.tau, cfg.tau_s);

    let mut dw = vec![0.0; n * n];
    let mut du = vec![0.0; n * n_in];
    let mut di0 = vec![0.0; n];
    let mut d_o = vec![0.0; n_out * n];

    // d_t for t = 1..T; also accumulates dL/dO, which pairs the error with s_t (after the step).
    let mut injected_error = |t: usize| -> Vec<f64> {
        let s = &tr.s[t];
        let o = readout(net, nb, s);
        let mut d = vec![0.0; nb * n];
        for b in 0..nb {
            for k in 0..n_out {
                let at = ((t - 1) * nb + b) * n_out + k;
                let r = h / nb as f64 * batch.mask[at] * (o[b * n_out + k] - batch.target[at]);
                for i in 0..n {
                    d[b * n + i] += net.o[k * n + i] * r;
                    d_o[k * n + i] += r * s[b * n + i];
                }
            }
        }
        d
    };

    let mut lam_v = vec![0.0; nb * n];
    let mut lam_s = injected_error(batch.t);
    if let Some(index) = lam_s.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(batch.t), index });
    }
    for t in (0..batch.t).rev() {
        let (v, s, current) = (&tr.v[t], &tr.s[t], &tr.i[t]);
        let mut e = vec![0.0; nb * n];
        let mut lam_v_prev = vec![0.0; nb * n];
        let mut lam_s_prev = if t > 0 { injected_error(t) } else { vec![0.0; nb * n] };
        for idx in 0..nb * n {
            let dv = h / tau * neuron.f(v[idx], current[idx]);
            let a = lam_v[idx] + cfg.gate.g(v[idx]) * lam_s[idx] / tau_s;
            e[idx] = h / tau * neuron.df_di(v[idx], current[idx]) * a;
            lam_v_prev[idx] = lam_v[idx]
                + h / tau * neuron.df_dv(v[idx], current[idx]) * a
                + cfg.gate.dg_dv(v[idx]) * dv * lam_s[idx] / tau_s;
            lam_s_prev[idx] += (1.0 - h / tau_s) * lam_s[idx];
        }
        for b in 0..nb {
            let x = &batch.x[(t * nb + b) * n_in..][..n_in];
            for i in 0..n {
                let ei = e[b * n + i];
                for j in 0..n {
                    // W^T e_t, and dL/dW pairs e_t with s_t (the state before the step).
                    lam_s_prev[b * n + j] += net.w[i * n + j] * ei;
                    dw[i * n + j] += ei * s[b * n + j];
                }
                for k in 0..n_in {
                    du[i * n_in + k] += ei * x[k];
                }
                di0[i] += ei;
            }
        }
        for (quantity, costate) in [("lam_v", &lam_v_prev), ("lam_s", &lam_s_prev)] {
            if let Some(index) = costate.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFiniteGradient { quantity, step: Some(t), index });
            }
        }
        lam_v = lam_v_prev;
        lam_s = lam_s_prev;
    }
    for (quantity, grad) in [("dW", &dw), ("dU", &du), ("dI0", &di0), ("dO", &d_o)] {
        if let Some(index) = grad.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFiniteGradient { quantity, step: None, index });
        }
    }
    Ok(Gradient { loss: fwd.loss, w: dw, u: du, i0: di0, o: d_o, v0: lam_v, s0: lam_s })
}
