//! The theta neuron's midpoint step (docs/model.md section 9, `spikegrad::ThetaMidpoint`)
//! is held to everything the Euler step is: kernels == reference on every output (f64
//! and f32, every backend), gradients == central finite differences (kernels and
//! reference), the activity-sparse sweeps == the dense ones, checkpointed == recorded bit
//! for bit, and the public checker passes it. And it does what it is for: a resting
//! neuron stays at rest however strong the inhibition, and the costates of strongly
//! inhibited neurons (I down to -100) stay finite and bounded over 10^4 steps, where the
//! Euler step's grow at every step.

use proptest::prelude::*;
use spikegrad::{
    check_neuron, Backend, Batch, Config, Gate, Gradient, GradientOptions, Inputs, Loss, Network,
    NeuronCheck, Parameters, Real, Record, Step, SweepPath, Theta, ThetaMidpoint, Workspace,
};
use spikegrad_harness::engines::{
    differences, kernel_outputs_on_path, kernel_tolerance, kernels_config, Converted,
};
use spikegrad_harness::{general_case, Case, GateShape, LossKind, Model, Shapes};

/// A general case (any loss, mask, I_ext, per-neuron constants) run with the midpoint step.
fn midpoint(shape: GateShape) -> impl Strategy<Value = Case> {
    (0..3usize).prop_flat_map(move |k| {
        general_case(shape, Shapes::default(), LossKind::ALL[k])
            .prop_map(|case| Case { neuron: Model::ThetaMidpoint, ..case })
    })
}

#[test]
fn the_checker_passes_the_midpoint_step() {
    let report = check_neuron(ThetaMidpoint, &NeuronCheck::default()).unwrap();
    assert!(report.passed(), "{report}");
    for check in ["dDelta_v/dv", "dDelta_v/dI", "r dDelta_v/dr", "increment vs partials"] {
        assert!(report.check(check).is_some_and(|c| c.checked > 0), "{check}: {report}");
    }
}

/// Gradient of a single-layer network of `n` neurons held at currents from -100 to -5
/// (W = 0, no input), over `steps` steps, each neuron started a little off its rest
/// phase, with a readout error at every step.
fn inhibited<T: Real, N: spikegrad::Neuron>(
    neuron: N,
    steps: usize,
) -> Result<(Gradient<T>, Vec<T>), spikegrad::Error> {
    let n = 8;
    let currents: Vec<f64> = (0..n).map(|j| -100.0 + 95.0 * j as f64 / (n - 1) as f64).collect();
    let rest = |i: f64| -((1.0 + i) / (1.0 - i)).acos() / std::f64::consts::PI;
    let config = Config::new(1.0, 10.0, 20.0, Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<T, N>::with_neuron(&config, neuron)?;
    let t = |x: f64| T::from_f64(x);
    let (w, u) = (vec![t(0.0); n * n], vec![t(0.0); n]);
    let i0: Vec<T> = currents.iter().map(|&i| t(i)).collect();
    let o: Vec<T> = (0..n).map(|j| t(1.0 + j as f64)).collect();
    let v0: Vec<T> = currents.iter().map(|&i| t(rest(i) + 0.05)).collect();
    let (s0, x) = (vec![t(0.0); n], vec![t(0.0); steps]);
    let target = vec![t(1.0); steps];
    let mask = vec![t(1.0); steps];
    let net = Network::new(Parameters { n, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    let batch = Batch::new(Inputs { b: 1, t: steps, v0: &v0, s0: &s0, x: &x });
    let mut workspace = Workspace::<T>::new();
    workspace.forward(&step, &net, &batch, Record::Trajectory)?;
    let recorded = workspace.trajectory().expect("recorded").v(steps).expect("recorded");
    let v_last = recorded.to_vec();
    let gradient = workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?.clone();
    Ok((gradient, v_last))
}

#[test]
fn strongly_inhibited_neurons_keep_finite_bounded_costates() {
    let steps = 10_000;
    let rest = |i: f64| -((1.0 + i) / (1.0 - i)).acos() / std::f64::consts::PI;
    for f32 in [false, true] {
        let (dv0, v_last) = if f32 {
            let (g, v) = inhibited::<f32, _>(ThetaMidpoint, steps).unwrap();
            (
                g.v0.iter().map(|&x| x as f64).collect::<Vec<_>>(),
                v.iter().map(|&x| x as f64).collect::<Vec<_>>(),
            )
        } else {
            let (g, v) = inhibited::<f64, _>(ThetaMidpoint, steps).unwrap();
            (g.v0.to_vec(), v)
        };
        // Each neuron returns to its rest phase and stays there.
        for (j, &v) in v_last.iter().enumerate() {
            let i = -100.0 + 95.0 * j as f64 / 7.0;
            assert!(
                (v - rest(i)).abs() < 1e-5,
                "f32={f32} neuron {j}: v_T {v} vs rest {}",
                rest(i)
            );
        }
        // dL/dv_0 is finite and of the size of the readout's sensitivity, not grown.
        assert!(dv0.iter().all(|x| x.is_finite() && x.abs() < 1e3), "f32={f32}: {dv0:?}");
    }
    // The Euler step at these currents: the costates of neurons below I = -1/(pi r)^2
    // (-10.1 at r = 0.1) grow at every step until they overflow.
    let euler = inhibited::<f64, _>(Theta, steps);
    let blown = match &euler {
        Err(_) => true,
        Ok((g, _)) => g.v0.iter().any(|x| !x.is_finite() || x.abs() > 1e100),
    };
    assert!(
        blown,
        "the Euler step was expected to blow up here: {:?}",
        euler.map(|g| g.0.v0.to_vec())
    );
}

/// The kernels' gradient of `case` on `path` with the midpoint step, recorded or
/// checkpointed (`limit`).
fn midpoint_gradient<T: Real>(
    case: &Case,
    path: SweepPath,
    limit: Option<usize>,
) -> Result<Gradient<T>, spikegrad::Error> {
    let config = kernels_config(&case.cfg);
    let step = Step::<T, ThetaMidpoint>::with_neuron(&config, ThetaMidpoint)?;
    let data = Converted::<T>::new(case);
    let mut workspace = Workspace::<T>::new();
    workspace.set_sweep_path(path);
    workspace.set_recording_limit(limit);
    let options = GradientOptions::default().with_input(true).with_current(true);
    let options = options.with_constants(path != SweepPath::ActivitySparse);
    let (net, batch, loss) = (data.network(), data.batch(), data.loss());
    Ok(workspace.gradient_with_options(&step, &net, &batch, &loss, options)?.clone())
}

proptest! {
    #![proptest_config(spikegrad_harness::long_cases(32))]

    #[test]
    fn midpoint_kernels_equal_the_reference(case in midpoint(GateShape::RaisedCosine), pick: usize, f32: bool) {
        crate::model_properties::kernels_equal_the_reference(&case, pick, f32)?;
    }

    #[test]
    fn midpoint_gradients_equal_finite_differences(case in midpoint(GateShape::RaisedCosine), picks in proptest::array::uniform2(any::<u64>()), kernels: bool) {
        crate::model_properties::gradients_equal_finite_differences(&case, &picks, kernels)?;
    }

    #[test]
    fn midpoint_sparse_equals_dense(case in midpoint(GateShape::RaisedCosine)) {
        let Some(tolerance) = kernel_tolerance::<f64>(&case) else {
            return Err(TestCaseError::reject("too ill-conditioned to compare"));
        };
        let run = |path| kernel_outputs_on_path::<f64>(&case, Backend::detect(), 1, path, false)
            .map_err(|e| TestCaseError::fail(e.to_string()));
        let (sparse, dense) = (run(SweepPath::ActivitySparse)?, run(SweepPath::Dense)?);
        for (output, difference) in differences(&sparse, &dense) {
            prop_assert!(difference <= tolerance, "sparse {output} differs from dense by {difference:e}");
        }
    }

}

/// A general midpoint case of 300 to 1500 steps, so that a checkpointed run has segments.
fn long_midpoint() -> impl Strategy<Value = Case> {
    let shapes = Shapes { max_t: 1500, max_n: 12, ..Shapes::default() };
    (0..3usize).prop_flat_map(move |k| {
        general_case(GateShape::RaisedCosine, shapes, LossKind::ALL[k])
            .prop_filter("long enough for segments", |case| case.batch.t >= 300)
            .prop_map(|case| Case { neuron: Model::ThetaMidpoint, ..case })
    })
}

proptest! {
    #![proptest_config(spikegrad_harness::long_cases(8))]

    #[test]
    fn midpoint_checkpointed_equals_recorded(case in long_midpoint(), f32: bool) {
        for path in [SweepPath::Dense, SweepPath::ActivitySparse, SweepPath::Automatic] {
            if f32 {
                let (a, b) = (midpoint_gradient::<f32>(&case, path, None), midpoint_gradient::<f32>(&case, path, Some(1)));
                prop_assert!(a.ok() == b.ok(), "f32 {path:?}");
            } else {
                let (a, b) = (midpoint_gradient::<f64>(&case, path, None), midpoint_gradient::<f64>(&case, path, Some(1)));
                prop_assert!(a.ok() == b.ok(), "f64 {path:?}");
            }
        }
    }
}

/// The midpoint step with one partial 1% too large: the checker must name it.
#[derive(Debug, Clone, Copy)]
struct WrongPartial;

impl spikegrad::Neuron for WrongPartial {
    const NAME: &'static str = "midpoint with a wrong dDelta_v/dI";

    fn f_and_derivatives<S: spikegrad::neuron::Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
        ThetaMidpoint.f_and_derivatives::<S, T>(simd, v, i)
    }

    fn spike_speed(self) -> f64 {
        2.0
    }

    fn increment<S: spikegrad::neuron::Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> T::Lanes<S> {
        ThetaMidpoint.increment::<S, T>(simd, v, i, r)
    }

    fn increment_and_partials<S: spikegrad::neuron::Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> spikegrad::Increment<T::Lanes<S>> {
        let step = ThetaMidpoint.increment_and_partials::<S, T>(simd, v, i, r);
        let off = T::vmul(simd, step.d_i, T::splat(simd, T::from_f64(1.01)));
        spikegrad::Increment::new(step.delta, step.d_v, off, step.d_log_r)
    }
}

#[test]
fn the_checker_catches_a_wrong_step_partial() {
    let report = check_neuron(WrongPartial, &NeuronCheck::default()).unwrap();
    assert!(!report.passed(), "{report}");
    for check in &report.checks {
        let should_fail = ["dDelta_v/dI", "network gradient"].contains(&check.check);
        assert_eq!(!check.passed(), should_fail, "{}\n{report}", check.check);
    }
}
