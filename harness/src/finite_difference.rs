//! Central finite differences of the loss, and the tolerance a gradient is held to.
//!
//! For a coordinate p the check forms central differences
//! D(eps) = (L(p + eps) - L(p - eps)) / (2 eps) at eps = c 10^-k, k = 2..=9, where c is
//! the coordinate's scale (max(|p|, rms of its array)), and takes as the finite
//! difference fd the D(eps_{k+1}) for which |D(eps_k) - D(eps_{k+1})| plus the rounding
//! floor below is smallest: the step where truncation error has died out and rounding
//! has not yet taken over (the classical step choice; the floor keeps the choice off
//! steps where L(p + eps) and L(p - eps) round to the same number). In strongly driven
//! recurrent cases the truncation error at a fixed eps = 1e-6 c was measured at 1e-2
//! relative, while eps = 1e-8 c agreed with the
//! adjoint to 1e-7 and the error fell a hundredfold per decade of eps, as it must for a
//! correct gradient.
//!
//! Near a threshold the loss can be so curved that truncation has not died out even at
//! eps = 1e-9 c, where rounding begins: `examples/fd_probe.rs` showed a case (|dL/dI0|
//! = 1.7e6, N 20, T 297) whose D(eps) reached the adjoint only from 3e-8 c down and erred
//! by 7.7e-5 at 1.2e-9 c, while the Richardson extrapolation (4 D(eps/2) - D(eps)) / 3,
//! which cancels the eps^2 term, agreed to 2e-8 there (the open case of 4.9e-5 on I0 of
//! docs/testing.md was of this kind). So the same step choice is also made for the extrapolated
//! estimates, and a coordinate passes if either estimate agrees, each within its own
//! rounding floor; a wrong gradient disagrees with both. The check accepts
//!
//! ```text
//! |fd - g| <= 1e-5 max(|g|, |fd|) + 1e4 * f64::EPSILON * max(|L|, 1e-300) / eps
//! ```
//!
//! (three times the last term for the extrapolated estimate).
//!
//! Why these numbers:
//! - truncation: for a C^3 loss the central difference errs by eps^2 |L'''| / 6. The
//!   raised-cosine gate is only C^1 (g'' jumps at the edges of the active zone), so
//!   when a phase crosses an edge inside [p - eps, p + eps] the error is of order
//!   eps |jump of L''| instead; the 1e-5 relative term covers both at the chosen step;
//! - rounding: L is a sum of up to T B n_out terms, each carrying a few ulps of error
//!   from the recurrence, so each evaluation of L is off by up to ~1e3 ulps of |L|; the
//!   difference of two such values, divided by 2 eps, can be off by 1e3 eps_mach |L|
//!   / eps. The absolute term allows ten times that. (This holds for a loss computed
//!   without cancellation: the cross-entropy of a confident classifier, of order 1e-7,
//!   once computed as log(1 + 1e-7) lost half its digits and failed this check on a
//!   dozen coordinates of one case; it is computed with ln_1p now);
//! - the extrapolation combines D(eps/2) (rounding doubled) with D(eps), so its rounding
//!   term is (4 * 2 + 1) / 3 = 3 times that of D(eps).
//!
//! A gradient that fails this is wrong, not unlucky: a sign or factor error in one
//! term of the adjoint shows up at order 1 relative.

use spikegrad_reference::{Gate, Gradient};

use crate::strategy::Case;

/// A differentiable quantity: a parameter of the network or the initial state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Recurrent weights.
    W,
    /// Input weights.
    U,
    /// Bias current.
    I0,
    /// Readout weights.
    O,
    /// Initial phase.
    V0,
    /// Initial synaptic current.
    S0,
    /// Inputs x_t.
    X,
    /// External current I_ext,t (only in cases that have one).
    IExt,
    /// Membrane time constant: tau_j per neuron where the case has them, else the shared
    /// tau (one coordinate).
    Tau,
    /// Synaptic time constant, as [`Param::Tau`].
    TauS,
    /// Gate width Delta (raised cosine only).
    Delta,
}

impl Param {
    /// All of them, in a fixed order.
    pub const ALL: [Param; 11] = [
        Param::W,
        Param::U,
        Param::I0,
        Param::O,
        Param::V0,
        Param::S0,
        Param::X,
        Param::IExt,
        Param::Tau,
        Param::TauS,
        Param::Delta,
    ];

    /// Name as in docs/model.md (`W`, `U`, `I0`, `O`, `v0`, `s0`, `x`, `I_ext`, `tau`,
    /// `tau_s`, `Delta`).
    pub fn name(self) -> &'static str {
        match self {
            Param::W => "W",
            Param::U => "U",
            Param::I0 => "I0",
            Param::O => "O",
            Param::V0 => "v0",
            Param::S0 => "s0",
            Param::X => "x",
            Param::IExt => "I_ext",
            Param::Tau => "tau",
            Param::TauS => "tau_s",
            Param::Delta => "Delta",
        }
    }

    /// The values of this quantity in a case (`None`: the case has no external current,
    /// or no gate width to differentiate, the boxcar's).
    pub fn values_mut(self, case: &mut Case) -> Option<&mut [f64]> {
        let (cfg, net, batch) = (&mut case.cfg, &mut case.net, &mut case.batch);
        Some(match self {
            Param::W => &mut net.w,
            Param::U => &mut net.u,
            Param::I0 => &mut net.i0,
            Param::O => &mut net.o,
            Param::V0 => &mut batch.v0,
            Param::S0 => &mut batch.s0,
            Param::X => &mut batch.x,
            Param::IExt => batch.i_ext.as_mut()?,
            Param::Tau => match &mut net.tau {
                Some(tau) => tau,
                None => std::slice::from_mut(&mut cfg.tau),
            },
            Param::TauS => match &mut net.tau_s {
                Some(tau_s) => tau_s,
                None => std::slice::from_mut(&mut cfg.tau_s),
            },
            Param::Delta => match &mut cfg.gate {
                Gate::RaisedCosine { delta } => std::slice::from_mut(delta),
                Gate::Boxcar { .. } => return None,
            },
        })
    }

    /// The gradient of this quantity in `case`, laid out like [`Param::values_mut`]: for
    /// a shared tau or tau_s the sum of the per-neuron derivatives (docs/model.md
    /// section 7); empty where the quantity is absent.
    pub fn of(self, case: &Case, grad: &Gradient) -> Vec<f64> {
        let shared = |per_neuron: &[f64]| vec![per_neuron.iter().sum()];
        match self {
            Param::W => grad.w.clone(),
            Param::U => grad.u.clone(),
            Param::I0 => grad.i0.clone(),
            Param::O => grad.o.clone(),
            Param::V0 => grad.v0.clone(),
            Param::S0 => grad.s0.clone(),
            Param::X => grad.x.clone(),
            Param::IExt if case.batch.i_ext.is_some() => grad.current.clone(),
            Param::IExt => Vec::new(),
            Param::Tau if case.net.tau.is_some() => grad.tau.clone(),
            Param::Tau => shared(&grad.tau),
            Param::TauS if case.net.tau_s.is_some() => grad.tau_s.clone(),
            Param::TauS => shared(&grad.tau_s),
            Param::Delta => grad.delta.into_iter().collect(),
        }
    }
}

/// Outcome of checking one coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FdReport {
    /// The quantity.
    pub param: Param,
    /// Flat index of the coordinate.
    pub index: usize,
    /// The gradient under test.
    pub gradient: f64,
    /// The central finite difference.
    pub finite_difference: f64,
    /// |fd - g| / max(|g|, |fd|) (0 when both are 0).
    pub relative_error: f64,
    /// The absolute (rounding) part of the tolerance; a relative error is only
    /// meaningful where max(|g|, |fd|) is well above it.
    pub rounding_floor: f64,
    /// Whether |fd - g| is within the tolerance of the module docs.
    pub passed: bool,
}

/// The scale of coordinate value `p` in an array whose root-mean-square is `rms`, so that
/// s0 (of order 1/tau_s) and W (of order tau_s) are perturbed by the same relative amount.
fn scale(p: f64, rms: f64) -> f64 {
    let scale = p.abs().max(rms);
    if scale > 0.0 {
        scale
    } else {
        1.0
    }
}

/// Decades of the difference steps tried: eps = scale * 10^-k.
const DECADES: std::ops::RangeInclusive<i32> = 2..=9;

/// Compares `gradient` (claimed dL/d`param`\[`index`\] at `case`, where L = `loss`) with
/// the central finite difference of the reference loss.
pub fn check_gradient(
    case: &Case,
    loss: f64,
    param: Param,
    index: usize,
    gradient: f64,
) -> FdReport {
    let mut at = Coordinate::new(case, param, index);
    let c = at.scale;
    // D(eps) and D(eps/2) at each decade, and the Richardson extrapolation
    // (4 D(eps/2) - D(eps)) / 3, which cancels the eps^2 term of the truncation error.
    let rows: Vec<(f64, f64, f64)> = DECADES
        .map(|k| {
            let eps = c * 10f64.powi(-k);
            let (wide, narrow) = (at.central(eps), at.central(eps / 2.0));
            (eps, wide, (4.0 * narrow - wide) / 3.0)
        })
        .collect();
    // Rounding in L, amplified by 1/(2 eps) in D and by (4 * 2 + 1) / 3 = 3 times that
    // in the extrapolation (module docs).
    let noise = 1e4 * f64::EPSILON * loss.abs().max(1e-300);
    let floor = |eps: f64, amplification: f64| amplification * noise / eps;
    // The pair of successive estimates of either kind whose disagreement (the
    // truncation left) plus rounding floor is smallest: the step where truncation has
    // died out and rounding has not yet taken over. The floor keeps the choice off the
    // smallest steps, where L(p + eps) and L(p - eps) can round to the same number and
    // two zero differences would look perfectly stable.
    let stable = |pick: fn(&(f64, f64, f64)) -> f64, amplification: f64| {
        let error = |pair: &[(f64, f64, f64)]| {
            (pick(&pair[0]) - pick(&pair[1])).abs() + floor(pair[1].0, amplification)
        };
        rows.windows(2)
            .min_by(|a, b| error(a).total_cmp(&error(b)))
            .map(|pair| (pair[1].0, pick(&pair[1])))
            .expect("at least two steps")
    };
    let candidates = [(stable(|r| r.1, 1.0), 1.0), (stable(|r| r.2, 3.0), 3.0)];
    let judged = candidates.map(|((eps, fd), amplification)| {
        let rounding_floor = floor(eps, amplification);
        let diff = (fd - gradient).abs();
        let scale = gradient.abs().max(fd.abs());
        let relative = if scale > 0.0 { diff / scale } else { 0.0 };
        (fd, rounding_floor, relative, diff <= 1e-5 * scale + rounding_floor)
    });
    // Passes if either estimate agrees; reported: the one that agrees better.
    let best = judged.iter().copied().min_by(|a, b| a.2.total_cmp(&b.2)).expect("two");
    let (finite_difference, rounding_floor, relative_error, _) = best;
    FdReport {
        param,
        index,
        gradient,
        finite_difference,
        relative_error,
        rounding_floor,
        passed: judged.iter().any(|j| j.3),
    }
}

/// Checks `grad` (claimed gradient at `case`) against finite differences on, for every
/// [`Param`] the case has, the coordinate of largest |gradient| and one coordinate per
/// entry of `picks` (taken modulo the length).
pub fn check_case(case: &Case, grad: &Gradient, picks: &[u64]) -> Vec<FdReport> {
    let mut reports = Vec::new();
    for param in Param::ALL {
        let g = param.of(case, grad);
        if g.is_empty() {
            continue;
        }
        let largest = (0..g.len()).max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()));
        let picked = picks.iter().map(|&p| (p % g.len() as u64) as usize);
        for index in largest.into_iter().chain(picked) {
            reports.push(check_gradient(case, grad.loss, param, index, g[index]));
        }
    }
    reports
}

/// For the coordinate `index` of `param`: (eps, D(eps), Richardson extrapolation
/// (4 D(eps/2) - D(eps)) / 3) at eps = scale 10^-k / 2^j over half-steps from 1e-2 to
/// 1e-9 of the coordinate's scale, for investigating a rejected coordinate.
pub fn difference_table(case: &Case, param: Param, index: usize) -> Vec<(f64, f64, f64)> {
    let mut at = Coordinate::new(case, param, index);
    let mut rows = Vec::new();
    let mut eps = 1e-2 * at.scale;
    while eps > 1e-9 * at.scale {
        let (wide, narrow) = (at.central(eps), at.central(eps / 2.0));
        rows.push((eps, wide, (4.0 * narrow - wide) / 3.0));
        eps /= 2.0f64.sqrt() * 2.0;
    }
    rows
}

/// One coordinate of a case, to move and evaluate the reference loss at.
struct Coordinate {
    /// A copy of the case, whose coordinate moves.
    case: Case,
    param: Param,
    index: usize,
    /// Its value in the case.
    value: f64,
    /// Its scale ([`scale`]).
    scale: f64,
}

impl Coordinate {
    fn new(case: &Case, param: Param, index: usize) -> Self {
        let mut case = case.clone();
        let values = param.values_mut(&mut case).expect("the case has this quantity");
        let rms = (values.iter().map(|x| x * x).sum::<f64>() / values.len() as f64).sqrt();
        let value = values[index];
        Coordinate { case, param, index, value, scale: scale(value, rms) }
    }

    /// L with the coordinate set to `value`.
    fn loss_at(&mut self, value: f64) -> f64 {
        let values = self.param.values_mut(&mut self.case).expect("present");
        values[self.index] = value;
        let Case { neuron, cfg, net, batch, loss } = &self.case;
        spikegrad_reference::loss_with(cfg, net, batch, loss, neuron.reference())
            .expect("a perturbed valid case stays valid")
    }

    /// D(eps) = (L(p + eps) - L(p - eps)) / (2 eps).
    fn central(&mut self, eps: f64) -> f64 {
        (self.loss_at(self.value + eps) - self.loss_at(self.value - eps)) / (2.0 * eps)
    }
}
