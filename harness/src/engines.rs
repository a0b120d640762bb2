//! Runs a [`Case`] through the kernels in either precision and hands back everything in
//! f64, shaped like the reference's results, so one comparison serves every engine.

use crate::strategy::Case;
use crate::strategy::Model;
use spikegrad::{
    Backend, Batch, Config, Gate, GradientOptions, HopfPhase, Inputs, Loss, Network, Neuron,
    Parameters, Real, Step, SweepPath, Theta, ThetaMidpoint, Workspace,
};
use spikegrad_reference as reference;
use spikegrad_reference::TaskLoss;

/// The kernels' configuration for a reference configuration.
pub fn kernels_config(cfg: &reference::Config) -> Config {
    let gate = match cfg.gate {
        reference::Gate::Boxcar { delta } => Gate::Boxcar { delta },
        reference::Gate::RaisedCosine { delta } => Gate::RaisedCosine { delta },
    };
    Config::new(cfg.h, cfg.tau, cfg.tau_s, gate)
}

fn cast<T: Real>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&x| T::from_f64(x)).collect()
}

fn widen<T: Real>(values: &[T]) -> Vec<f64> {
    values.iter().map(|x| x.to_f64()).collect()
}

/// A case converted to precision `T`, owning its arrays.
pub struct Converted<T> {
    w: Vec<T>,
    u: Vec<T>,
    i0: Vec<T>,
    o: Vec<T>,
    w_mask: Option<Vec<T>>,
    tau: Option<Vec<T>>,
    tau_s: Option<Vec<T>>,
    v0: Vec<T>,
    s0: Vec<T>,
    x: Vec<T>,
    i_ext: Option<Vec<T>>,
    /// The loss's arrays: (target, mask) for MSE, (G) for the linear loss.
    loss_arrays: [Vec<T>; 2],
    case: Case,
}

impl<T: Real> Converted<T> {
    /// Rounds every array of `case` to `T`.
    pub fn new(case: &Case) -> Self {
        let (net, batch) = (&case.net, &case.batch);
        let loss_arrays = match &case.loss.task {
            TaskLoss::Mse { target, mask } => [cast(target), cast(mask)],
            TaskLoss::Linear { g } => [cast(g), Vec::new()],
            TaskLoss::CrossEntropy { .. } => [Vec::new(), Vec::new()],
        };
        Converted {
            w: cast(&net.w),
            u: cast(&net.u),
            i0: cast(&net.i0),
            o: cast(&net.o),
            w_mask: net.w_mask.as_deref().map(cast),
            tau: net.tau.as_deref().map(cast),
            tau_s: net.tau_s.as_deref().map(cast),
            v0: cast(&batch.v0),
            s0: cast(&batch.s0),
            x: cast(&batch.x),
            i_ext: batch.i_ext.as_deref().map(cast),
            loss_arrays,
            case: case.clone(),
        }
    }

    /// The parameter view.
    pub fn network(&self) -> Network<'_, T> {
        let net = &self.case.net;
        let mut view = Network::new(Parameters {
            n: net.n,
            n_in: net.n_in,
            n_out: net.n_out,
            w: &self.w,
            u: &self.u,
            i0: &self.i0,
            o: &self.o,
        });
        if let Some(mask) = &self.w_mask {
            view = view.with_mask(mask);
        }
        if let Some(tau) = &self.tau {
            view = view.with_tau(tau);
        }
        if let Some(tau_s) = &self.tau_s {
            view = view.with_tau_s(tau_s);
        }
        view
    }

    /// The trials view.
    pub fn batch(&self) -> Batch<'_, T> {
        let batch = &self.case.batch;
        let view =
            Batch::new(Inputs { b: batch.b, t: batch.t, v0: &self.v0, s0: &self.s0, x: &self.x });
        match &self.i_ext {
            Some(i_ext) => view.with_external_current(i_ext),
            None => view,
        }
    }

    /// The loss view.
    pub fn loss(&self) -> Loss<'_, T> {
        let [first, second] = &self.loss_arrays;
        let loss = match &self.case.loss.task {
            TaskLoss::Mse { .. } => Loss::mse(first, second),
            TaskLoss::Linear { .. } => Loss::linear(first),
            TaskLoss::CrossEntropy { labels, from_step, to_step } => {
                Loss::cross_entropy(labels, *from_step, *to_step)
            }
        };
        loss.with_rate_penalty(self.case.loss.rate_penalty)
    }
}

/// What an engine computed for a case, in f64.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// Loss and gradients (with dL/dx and dL/dI_t).
    pub gradient: reference::Gradient,
    /// v_t for t = 0..=T.
    pub v: Vec<Vec<f64>>,
    /// s_t for t = 0..=T.
    pub s: Vec<Vec<f64>>,
}

/// The reference's outputs.
pub fn reference_outputs(case: &Case) -> Result<Outputs, reference::Error> {
    let neuron = case.neuron.reference();
    let gradient = reference::gradient_with(&case.cfg, &case.net, &case.batch, &case.loss, neuron)?;
    let tr = reference::forward_with(&case.cfg, &case.net, &case.batch, neuron)?;
    Ok(Outputs { gradient, v: tr.v, s: tr.s })
}

/// The kernels' outputs in precision `T` on `backend` with at most `threads` threads
/// (every gradient: dL/dx, dL/dI_t and the constants' too), for the case's neuron model.
pub fn kernel_outputs<T: Real>(
    case: &Case,
    backend: Backend,
    threads: usize,
) -> Result<Outputs, spikegrad::Error> {
    match case.neuron {
        Model::Theta => kernel_outputs_with::<T, _>(case, Theta, backend, threads),
        Model::HopfPhase => kernel_outputs_with::<T, _>(case, HopfPhase, backend, threads),
        Model::ThetaMidpoint => kernel_outputs_with::<T, _>(case, ThetaMidpoint, backend, threads),
    }
}

/// [`kernel_outputs`] for the model `neuron` (the case's own is ignored).
pub fn kernel_outputs_with<T: Real, N: Neuron>(
    case: &Case,
    neuron: N,
    backend: Backend,
    threads: usize,
) -> Result<Outputs, spikegrad::Error> {
    outputs::<T, N>(case, neuron, backend, threads, SweepPath::Automatic, true)
}

/// [`kernel_outputs`] on the sweep path `path`, with the gradients of the constants or
/// without (then `tau`, `tau_s` are empty and `delta` is `None`).
pub fn kernel_outputs_on_path<T: Real>(
    case: &Case,
    backend: Backend,
    threads: usize,
    path: SweepPath,
    constants: bool,
) -> Result<Outputs, spikegrad::Error> {
    match case.neuron {
        Model::Theta => outputs::<T, _>(case, Theta, backend, threads, path, constants),
        Model::HopfPhase => outputs::<T, _>(case, HopfPhase, backend, threads, path, constants),
        Model::ThetaMidpoint => {
            outputs::<T, _>(case, ThetaMidpoint, backend, threads, path, constants)
        }
    }
}

fn outputs<T: Real, N: Neuron>(
    case: &Case,
    neuron: N,
    backend: Backend,
    threads: usize,
    path: SweepPath,
    constants: bool,
) -> Result<Outputs, spikegrad::Error> {
    let config = kernels_config(&case.cfg);
    let step = Step::<T, N>::with_neuron_and_backend(&config, neuron, backend)?;
    let data = Converted::<T>::new(case);
    let mut workspace = Workspace::<T>::with_threads(threads);
    workspace.set_sweep_path(path);
    let options = GradientOptions::default().with_input(true).with_current(true);
    let options = options.with_constants(constants);
    let (net, batch, loss) = (data.network(), data.batch(), data.loss());
    let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?.clone();
    let tr = workspace.trajectory().expect("gradient records the trajectory");
    let steps = 0..=case.batch.t;
    let state = |at: Option<&[T]>| widen(at.expect("t in 0..=T"));
    Ok(Outputs {
        gradient: reference::Gradient {
            loss: g.loss,
            w: widen(&g.w),
            u: widen(&g.u),
            i0: widen(&g.i0),
            o: widen(&g.o),
            v0: widen(&g.v0),
            s0: widen(&g.s0),
            x: widen(&g.x),
            current: widen(&g.current),
            tau: widen(&g.tau),
            tau_s: widen(&g.tau_s),
            delta: g.delta,
        },
        v: steps.clone().map(|t| state(tr.v(t))).collect(),
        s: steps.map(|t| state(tr.s(t))).collect(),
    })
}

/// max |a - b| / max |b| over an array (0 when both are all zero): the norm-wise relative
/// difference, well defined where some entries are zero.
pub fn normwise_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let diff = a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if diff == 0.0 {
        0.0
    } else {
        diff / scale
    }
}

/// The norm-wise difference of every output, by name: `loss`, the eleven gradients
/// (dDelta counts as infinitely different when one engine has it and the other not),
/// and the trajectories `v` (as the phase on the circle) and `s`.
pub fn differences(got: &Outputs, want: &Outputs) -> Vec<(&'static str, f64)> {
    let (g, w) = (&got.gradient, &want.gradient);
    let flat = |x: &[Vec<f64>]| x.concat();
    // Phases are compared on the circle: -1 and 1 - 1e-17 are neighbours.
    let phase_gap = |a: &[Vec<f64>], b: &[Vec<f64>]| {
        flat(a).iter().zip(flat(b)).fold(0.0f64, |m, (x, y)| {
            let d = (x - y).rem_euclid(2.0);
            m.max(d.min(2.0 - d))
        })
    };
    vec![
        ("loss", normwise_difference(&[g.loss], &[w.loss])),
        ("dW", normwise_difference(&g.w, &w.w)),
        ("dU", normwise_difference(&g.u, &w.u)),
        ("dI0", normwise_difference(&g.i0, &w.i0)),
        ("dO", normwise_difference(&g.o, &w.o)),
        ("dv0", normwise_difference(&g.v0, &w.v0)),
        ("ds0", normwise_difference(&g.s0, &w.s0)),
        ("dx", normwise_difference(&g.x, &w.x)),
        ("dI_ext", normwise_difference(&g.current, &w.current)),
        ("dtau", normwise_difference(&g.tau, &w.tau)),
        ("dtau_s", normwise_difference(&g.tau_s, &w.tau_s)),
        (
            "dDelta",
            match (g.delta, w.delta) {
                (Some(a), Some(b)) => normwise_difference(&[a], &[b]),
                (None, None) => 0.0,
                _ => f64::INFINITY,
            },
        ),
        ("v", phase_gap(&got.v, &want.v)),
        ("s", normwise_difference(&flat(&got.s), &flat(&want.s))),
    ]
}

/// Cases whose [`rounding_sensitivity`] exceeds this are not differentiable at any scale
/// a finite difference can resolve: a neuron balanced on its threshold fires or not
/// depending on the last bit (seen: one neuron, sensitivity 0.99). Their gradient exists
/// and the kernels compute it, but no finite difference can check it, so the
/// finite-difference tests set them aside (about 1 case in 100 of the strategy).
pub const FD_CHECKABLE_SENSITIVITY: f64 = 1e-8;

/// How far the reference's own outputs move when every parameter and initial state is
/// perturbed by one ulp of f64 (multiplied by 1 +- 2^-52, alternating): the
/// amplification of rounding-level noise by the dynamics. Two correct implementations
/// that round differently cannot agree better than this.
pub fn rounding_sensitivity(case: &Case) -> f64 {
    sensitivity_to(case, f64::EPSILON)
}

/// As [`rounding_sensitivity`], for a relative perturbation `relative` of every
/// parameter and initial state (2^-23 measures the conditioning at f32 precision, where
/// the response may already be nonlinear).
pub fn sensitivity_to(case: &Case, relative: f64) -> f64 {
    let mut perturbed = case.clone();
    let (net, batch) = (&mut perturbed.net, &mut perturbed.batch);
    let mut sign = 1.0;
    let mut arrays =
        vec![&mut net.w, &mut net.u, &mut net.i0, &mut net.o, &mut batch.v0, &mut batch.s0];
    arrays.extend(batch.i_ext.as_mut());
    for values in arrays {
        for x in values.iter_mut() {
            *x *= 1.0 + sign * relative;
            sign = -sign;
        }
    }
    match (reference_outputs(case), reference_outputs(&perturbed)) {
        (Ok(a), Ok(b)) => differences(&b, &a).iter().fold(0.0f64, |m, (_, d)| m.max(*d)),
        _ => f64::INFINITY,
    }
}

/// The largest norm-wise difference allowed between the kernels in precision `T` and
/// the reference on `case`, or `None` where the case is too ill-conditioned at that
/// precision for any comparison to mean something. Calibrated on 1500 random cases
/// and checked on 1500 more (`examples/kernel_report.rs` prints the same figures):
///
/// - f64: 1e-12 where the case's f64 [`rounding_sensitivity`] (the larger of two sign
///   patterns) is at most 1e-14, otherwise 1000 times that sensitivity. The kernels
///   round differently from the reference (polynomial sin/cos, fused multiply-adds,
///   summation order of the products) and the dynamics amplify that like any rounding
///   difference. The ratio of difference to sensitivity was at most 15 in 1500 cases
///   but reached 107 in one case of 3000 more: the kernels round at every step, and a
///   difference injected at a sensitive moment mid-run is amplified more than the
///   probe's initial perturbation. Set aside above 1e-8 (about 1 case in 250: neurons
///   balanced on a threshold, see [`FD_CHECKABLE_SENSITIVITY`]).
/// - f32: 300 x the sensitivity to an f32 ulp of the inputs ([`sensitivity_to`] 2^-23,
///   the larger of two sign patterns; largest ratio seen 72: the kernels round at every
///   step, the sensitivity perturbs once), and never below 1e-6; set aside above 1e-3
///   (an f32 ulp of the inputs moves the outputs by over 0.1%: f32 cannot represent
///   the problem). Meaningful for the raised-cosine gate only: with the boxcar, f32
///   rounding decides whether a phase near an edge of the zone is in or out (about 2e-6
///   per neuron-step, so a flip somewhere in most long runs), a legitimate jump between
///   pieces of a piecewise-smooth loss.
pub fn kernel_tolerance<T: spikegrad::Real>(case: &Case) -> Option<f64> {
    if T::NAME == "f64" {
        let sensitivity = rounding_sensitivity(case).max(sensitivity_to(case, -f64::EPSILON));
        let tolerance = if sensitivity <= 1e-14 { 1e-12 } else { 1000.0 * sensitivity };
        (sensitivity <= FD_CHECKABLE_SENSITIVITY).then_some(tolerance)
    } else {
        let ulp = 2f64.powi(-23);
        let sensitivity = sensitivity_to(case, ulp).max(sensitivity_to(case, -ulp));
        (sensitivity <= 1e-3).then(|| (300.0 * sensitivity).max(1e-6))
    }
}
