use crate::config::Config;
use crate::error::Error;
use crate::forward::{forward_with, Trajectory};
use crate::loss::Loss;
use crate::network::{check_array, validate_data, Batch, Network};
use crate::neuron::{Neuron, Theta};

/// dL/d(everything) of docs/model.md sections 3, 5 and 6, in the layouts of [`Network`]
/// and [`Batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient {
    /// The loss L at which the gradient was taken (after [`backward`]: the linear
    /// functional sum_t (dL/do_t . o_t + dL/ds_t . s_t)).
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
    /// dL/dx_t = U^T e_t, (T, B, n_in).
    pub x: Vec<f64>,
    /// dL/dI_t = e_t (= dL/dI_ext,t), (T, B, N).
    pub current: Vec<f64>,
    /// dL/dtau_j = -(1/tau_j) sum_t a_t dv_t, (N) (docs/model.md section 7); for a
    /// shared tau, dL/dtau is their sum.
    pub tau: Vec<f64>,
    /// dL/dtau_s,j = (1/tau_s,j^2) sum_t lam_s_{t+1} (h s_t - g(v_t) dv_t), (N); for a
    /// shared tau_s, their sum.
    pub tau_s: Vec<f64>,
    /// dL/dDelta = sum_t sum_j lam_s_{t+1} (dg/dDelta)(v_t) dv_t / tau_s,j for the raised
    /// cosine; `None` for the boxcar.
    pub delta: Option<f64>,
}

/// The exact gradient of any loss whose derivatives are `dl_do` = dL/do_t (T, B, n_out)
/// and `dl_ds` = dL/ds_t (T, B, N), index t holding step t + 1, by the reverse costate
/// sweep of docs/model.md section 3 over the recorded run `tr`, for t = T-1 down to 0:
///
/// ```text
/// a_t     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
/// e_t     = dDelta_v/dI(v_t, I_t) a_t           (Euler: (h/tau) df/dI)
/// lam_v_t = lam_v_{t+1} + dDelta_v/dv(v_t, I_t) a_t + g'(v_t) dv_t lam_s_{t+1} / tau_s
/// lam_s_t = (1 - h/tau_s) lam_s_{t+1} + W_eff^T e_t + d_t
/// ```
///
/// with dv_t = Delta_v(v_t, I_t; h/tau), the neuron's step map (section 9).
///
/// with d_t = O^T dL/do_t + dL/ds_t (section 6), lam_v_T = 0, lam_s_T = d_T, and
/// dL/dW = (sum_t e_t s_t^T) * M, dL/dU = sum_t e_t x_t^T, dL/dI0 = sum_t e_t,
/// dL/dO = sum_{t=1..T} dL/do_t s_t^T, dL/dx_t = U^T e_t, dL/dI_ext,t = e_t, and the
/// gradients of the constants of section 7. For the theta neuron: [`backward_with`].
pub fn backward(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    tr: &Trajectory,
    dl_do: &[f64],
    dl_ds: Option<&[f64]>,
) -> Result<Gradient, Error> {
    backward_with(cfg, net, batch, tr, dl_do, dl_ds, &Theta)
}

/// [`backward`] for `neuron` (per-neuron tau_j and tau_s,j where the network has them):
///
/// ```text
/// dL/dtau_j   = -(1/tau_j) sum_t a_t r dDelta_v/dr    (r = h/tau_j; Euler: a_t dv_t)
/// dL/dtau_s,j = (1/tau_s,j^2) sum_t lam_s_{t+1} (h s_t - g(v_t) dv_t)
/// dL/dDelta   = sum_t sum_j lam_s_{t+1} (dg/dDelta)(v_t) dv_t / tau_s,j
/// ```
pub fn backward_with(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    tr: &Trajectory,
    dl_do: &[f64],
    dl_ds: Option<&[f64]>,
    neuron: &dyn Neuron,
) -> Result<Gradient, Error> {
    let (n, n_out, nb, steps) = (net.n, net.n_out, batch.b, batch.t);
    check_array(
        "dL/do",
        dl_do,
        format!("(T, B, n_out) = ({steps}, {nb}, {n_out})"),
        Some(steps * nb * n_out),
    )?;
    if let Some(ds) = dl_ds {
        check_array(
            "dL/ds",
            ds,
            format!("(T, B, N) = ({steps}, {nb}, {n})"),
            Some(steps * nb * n),
        )?;
    }
    let mut sums = Sums::new(net, batch);
    let loss = LossDerivatives { dl_do, dl_ds };
    let mut lam_v = vec![0.0; nb * n];
    let mut lam_s = sums.injected_error(net, tr, &loss, steps);
    if let Some(index) = lam_s.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(steps), index });
    }
    for t in (0..steps).rev() {
        let mut lam_s_prev =
            if t > 0 { sums.injected_error(net, tr, &loss, t) } else { vec![0.0; nb * n] };
        let costates = Costates { lam_v: &lam_v, lam_s: &lam_s };
        let (e, lam_v_prev) =
            sums.through_neurons(cfg, net, tr, t, costates, &mut lam_s_prev, neuron);
        sums.through_synapses(net, batch, tr, t, &e, &mut lam_s_prev);
        for (quantity, costate) in [("lam_v", &lam_v_prev), ("lam_s", &lam_s_prev)] {
            if let Some(index) = costate.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFiniteGradient { quantity, step: Some(t), index });
            }
        }
        lam_v = lam_v_prev;
        lam_s = lam_s_prev;
    }
    sums.gradient(cfg, net, lam_v, lam_s)
}

/// dL/do_t and dL/ds_t, (T, B, n_out) and (T, B, N).
struct LossDerivatives<'a> {
    dl_do: &'a [f64],
    dl_ds: Option<&'a [f64]>,
}

/// lam_v_{t+1} and lam_s_{t+1}, (B, N).
#[derive(Clone, Copy)]
struct Costates<'a> {
    lam_v: &'a [f64],
    lam_s: &'a [f64],
}

/// The sums over steps of the reverse sweep: the gradients of [`Gradient`] and the value
/// of the linear functional.
struct Sums {
    dw: Vec<f64>,
    du: Vec<f64>,
    di0: Vec<f64>,
    d_o: Vec<f64>,
    dx: Vec<f64>,
    de: Vec<f64>,
    dtau: Vec<f64>,
    dtau_s: Vec<f64>,
    ddelta: f64,
    value: f64,
}

impl Sums {
    fn new(net: &Network, batch: &Batch) -> Self {
        let (n, n_in, n_out, nb, steps) = (net.n, net.n_in, net.n_out, batch.b, batch.t);
        Sums {
            dw: vec![0.0; n * n],
            du: vec![0.0; n * n_in],
            di0: vec![0.0; n],
            d_o: vec![0.0; n_out * n],
            dx: vec![0.0; steps * nb * n_in],
            de: vec![0.0; steps * nb * n],
            dtau: vec![0.0; n],
            dtau_s: vec![0.0; n],
            ddelta: 0.0,
            value: 0.0,
        }
    }

    /// d_t = O^T dL/do_t + dL/ds_t for t = 1..T; also accumulates dL/dO, which pairs
    /// dL/do_t with s_t (after the step), and the value of the linear functional.
    fn injected_error(
        &mut self,
        net: &Network,
        tr: &Trajectory,
        loss: &LossDerivatives,
        t: usize,
    ) -> Vec<f64> {
        let (n, n_out) = (net.n, net.n_out);
        let s = &tr.s[t];
        let nb = s.len() / n;
        let mut d = vec![0.0; nb * n];
        for b in 0..nb {
            for k in 0..n_out {
                let r = loss.dl_do[((t - 1) * nb + b) * n_out + k];
                self.value += r * tr.o[t - 1][b * n_out + k];
                for i in 0..n {
                    d[b * n + i] += net.o[k * n + i] * r;
                    self.d_o[k * n + i] += r * s[b * n + i];
                }
            }
            if let Some(ds) = loss.dl_ds {
                for i in 0..n {
                    let direct = ds[((t - 1) * nb + b) * n + i];
                    self.value += direct * s[b * n + i];
                    d[b * n + i] += direct;
                }
            }
        }
        d
    }

    /// Step t through each neuron: e_t and lam_v_t (returned), the (1 - h/tau_s) lam_s
    /// term added to `lam_s_prev`, and the sums of the constants' gradients.
    #[allow(clippy::too_many_arguments)]
    fn through_neurons(
        &mut self,
        cfg: &Config,
        net: &Network,
        tr: &Trajectory,
        t: usize,
        next: Costates,
        lam_s_prev: &mut [f64],
        neuron: &dyn Neuron,
    ) -> (Vec<f64>, Vec<f64>) {
        let (v, s, current) = (&tr.v[t], &tr.s[t], &tr.i[t]);
        let (n, h) = (net.n, cfg.h);
        let (lam_v, lam_s) = (next.lam_v, next.lam_s);
        let mut e = vec![0.0; lam_v.len()];
        let mut lam_v_prev = vec![0.0; lam_v.len()];
        for idx in 0..lam_v.len() {
            let j = idx % n;
            let (tau, tau_s) = (net.tau_of(cfg, j), net.tau_s_of(cfg, j));
            let g = cfg.gate.g(v[idx]);
            let (vi, ii, r) = (v[idx], current[idx], h / tau);
            let dv = neuron.increment(vi, ii, r);
            let a = lam_v[idx] + g * lam_s[idx] / tau_s;
            // Sections 7 and 9: dv_t = Delta_v(v, I; h/tau) and dr/dtau = -r/tau, so
            // d(dv_t)/dtau = -(r dDelta_v/dr)/tau (-dv_t/tau for Euler); s_{t+1} depends
            // on tau_s through (1 - h/tau_s) s_t + g dv_t / tau_s.
            self.dtau[j] += -a * neuron.increment_dlog_r(vi, ii, r) / tau;
            self.dtau_s[j] += lam_s[idx] * (h * s[idx] - g * dv) / (tau_s * tau_s);
            if let Some(dg_ddelta) = cfg.gate.dg_ddelta(v[idx]) {
                self.ddelta += lam_s[idx] * dg_ddelta * dv / tau_s;
            }
            e[idx] = neuron.increment_di(vi, ii, r) * a;
            lam_v_prev[idx] = lam_v[idx]
                + neuron.increment_dv(vi, ii, r) * a
                + cfg.gate.dg_dv(v[idx]) * dv * lam_s[idx] / tau_s;
            lam_s_prev[idx] += (1.0 - h / tau_s) * lam_s[idx];
        }
        (e, lam_v_prev)
    }

    /// Step t through the synapses: W_eff^T e_t added to `lam_s_prev`, and the sums of
    /// dL/dW (e_t with s_t, the state before the step), dL/dU, dL/dI0, dL/dx_t, dL/dI_t.
    fn through_synapses(
        &mut self,
        net: &Network,
        batch: &Batch,
        tr: &Trajectory,
        t: usize,
        e: &[f64],
        lam_s_prev: &mut [f64],
    ) {
        let (n, n_in, nb, s) = (net.n, net.n_in, batch.b, &tr.s[t]);
        for b in 0..nb {
            let x = &batch.x[(t * nb + b) * n_in..][..n_in];
            for i in 0..n {
                let ei = e[b * n + i];
                self.de[(t * nb + b) * n + i] = ei;
                for j in 0..n {
                    lam_s_prev[b * n + j] += net.w_eff(i, j) * ei;
                    self.dw[i * n + j] += ei * s[b * n + j];
                }
                for k in 0..n_in {
                    self.du[i * n_in + k] += ei * x[k];
                    self.dx[(t * nb + b) * n_in + k] += net.u[i * n_in + k] * ei;
                }
                self.di0[i] += ei;
            }
        }
    }

    /// The gradient from the sums and lam_v_0, lam_s_0: dL/dW masked, every value
    /// checked finite.
    fn gradient(
        mut self,
        cfg: &Config,
        net: &Network,
        lam_v: Vec<f64>,
        lam_s: Vec<f64>,
    ) -> Result<Gradient, Error> {
        if let Some(mask) = &net.w_mask {
            for (g, m) in self.dw.iter_mut().zip(mask) {
                *g *= m;
            }
        }
        let delta = cfg.gate.dg_ddelta(0.0).map(|_| self.ddelta);
        let delta_values = delta.map(|d| vec![d]).unwrap_or_default();
        let checked = [
            ("dW", &self.dw),
            ("dU", &self.du),
            ("dI0", &self.di0),
            ("dO", &self.d_o),
            ("dx", &self.dx),
            ("dtau", &self.dtau),
            ("dtau_s", &self.dtau_s),
            ("dDelta", &delta_values),
        ];
        for (quantity, grad) in checked {
            if let Some(index) = grad.iter().position(|x| !x.is_finite()) {
                return Err(Error::NonFiniteGradient { quantity, step: None, index });
            }
        }
        Ok(Gradient {
            loss: self.value,
            w: self.dw,
            u: self.du,
            i0: self.di0,
            o: self.d_o,
            v0: lam_v,
            s0: lam_s,
            x: self.dx,
            current: self.de,
            tau: self.dtau,
            tau_s: self.dtau_s,
            delta,
        })
    }
}

/// The loss L = L_task + lambda R of docs/model.md section 6 and its exact gradient: a
/// recorded forward run, the loss's dL/do_t and dL/ds_t, then [`backward`]. For the
/// theta neuron: [`gradient_with`].
pub fn gradient(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    loss: &Loss,
) -> Result<Gradient, Error> {
    gradient_with(cfg, net, batch, loss, &Theta)
}

/// [`gradient`] for `neuron`.
pub fn gradient_with(
    cfg: &Config,
    net: &Network,
    batch: &Batch,
    loss: &Loss,
    neuron: &dyn Neuron,
) -> Result<Gradient, Error> {
    // The order of the checks is the kernels': configuration, data, loss, then each
    // neuron's time constants (in forward_with).
    cfg.validate_for(neuron)?;
    validate_data(net, batch)?;
    loss.validate(batch.t, batch.b, net.n_out)?;
    let tr = forward_with(cfg, net, batch, neuron)?;
    let lg = loss.evaluate(cfg.h, batch.b, &tr.o, &tr.s)?;
    let state = (loss.rate_penalty > 0.0).then_some(&lg.state[..]);
    let mut g = backward_with(cfg, net, batch, &tr, &lg.readout, state, neuron)?;
    g.loss = lg.loss;
    Ok(g)
}
