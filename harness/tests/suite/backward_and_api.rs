//! The public trial-level API beyond the built-in losses: `Workspace::backward` from the
//! caller's own dL/do_t and dL/ds_t equals the reference's `backward`, on every backend;
//! and the API's refusals: a backward without a recorded forward run, or after one of
//! another shape; an invalid loss (labels, window, rate penalty) named alike by both
//! engines; a trajectory index out of range; a run too large for memory.

use proptest::prelude::*;
use spikegrad::{
    Backend, Error, GradientOptions, Inputs, Loss, Parameters, Record, Step, Workspace,
};
use spikegrad_harness::engines::{
    kernel_tolerance, kernels_config, normwise_difference, Converted,
};
use spikegrad_harness::{general_case, Case, GateShape, LossKind, Shapes};
use spikegrad_reference as reference;

fn small() -> Shapes {
    Shapes { max_n: 12, max_io: 3, max_b: 3, max_t: 120 }
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(64))]

    #[test]
    fn backward_from_the_callers_gradients_equals_the_reference(
        case in general_case(GateShape::RaisedCosine, small(), LossKind::Linear),
        with_state: bool,
        pick: usize,
        seed in 0..1000u32,
    ) {
        let Some(tolerance) = kernel_tolerance::<f64>(&case) else {
            return Err(TestCaseError::reject("ill-conditioned"));
        };
        let (n, n_out, b, t) = (case.net.n, case.net.n_out, case.batch.b, case.batch.t);
        // Deterministic pseudo-random dL/do and dL/ds of the caller's own loss.
        let wave = |len: usize, salt: f64| -> Vec<f64> {
            (0..len).map(|i| ((i as f64 * 0.618 + salt + seed as f64).sin()) * 1e-3).collect()
        };
        let dl_do = wave(t * b * n_out, 0.1);
        let dl_ds = with_state.then(|| wave(t * b * n, 0.7));

        let tr = reference::forward(&case.cfg, &case.net, &case.batch).unwrap();
        let want = reference::backward(&case.cfg, &case.net, &case.batch, &tr, &dl_do, dl_ds.as_deref()).unwrap();

        let all = Backend::all_available();
        let step = Step::<f64>::with_backend(&kernels_config(&case.cfg), all[pick % all.len()]).unwrap();
        let data = Converted::<f64>::new(&case);
        let (net, batch) = (data.network(), data.batch());
        let mut workspace = Workspace::with_threads(1);
        let options = GradientOptions::default().with_input(true).with_current(true);
        workspace.forward(&step, &net, &batch, Record::Trajectory).unwrap();
        let got = workspace.backward(&step, &net, &batch, &dl_do, dl_ds.as_deref(), options).unwrap();
        prop_assert!(normwise_difference(&[got.loss], &[want.loss]) <= tolerance.max(1e-12));
        for (name, g, w) in [
            ("dW", &got.w, &want.w), ("dU", &got.u, &want.u), ("dI0", &got.i0, &want.i0),
            ("dO", &got.o, &want.o), ("dv0", &got.v0, &want.v0), ("ds0", &got.s0, &want.s0),
            ("dx", &got.x, &want.x), ("dI", &got.current, &want.current),
        ] {
            let d = normwise_difference(g, w);
            prop_assert!(d <= tolerance, "{name} differs by {d:e} > {tolerance:e}");
        }
    }

    #[test]
    fn the_streamed_loss_equals_the_recorded_one(
        case in (0..3usize).prop_flat_map(|k| general_case(GateShape::RaisedCosine, small(), LossKind::ALL[k])),
    ) {
        // `loss` streams (and counts the rate penalty's charge as it goes); `gradient`
        // records and sums the charge afterwards.
        let Some(tolerance) = kernel_tolerance::<f64>(&case) else {
            return Err(TestCaseError::reject("ill-conditioned"));
        };
        let step = Step::<f64>::new(&kernels_config(&case.cfg)).unwrap();
        let data = Converted::<f64>::new(&case);
        let (net, batch, loss) = (data.network(), data.batch(), data.loss());
        let mut workspace = Workspace::new();
        let streamed = workspace.loss(&step, &net, &batch, &loss).unwrap();
        let recorded = workspace.gradient(&step, &net, &batch, &loss).unwrap().loss;
        let d = normwise_difference(&[streamed], &[recorded]);
        prop_assert!(d <= tolerance, "{:?}: streamed {streamed}, recorded {recorded}", case.loss.task);
    }

    #[test]
    fn an_invalid_loss_is_refused_alike_by_both_engines(
        case in general_case(GateShape::RaisedCosine, small(), LossKind::CrossEntropy),
        which in 0..4usize,
    ) {
        let mut case = case;
        let (t, n_out) = (case.batch.t, case.net.n_out);
        let reference::TaskLoss::CrossEntropy { labels, from_step, to_step } = &mut case.loss.task else {
            unreachable!()
        };
        match which {
            0 => labels[0] = n_out,
            1 => *to_step = t + 1,
            2 => *from_step = *to_step,
            _ => case.loss.rate_penalty = -1.0,
        }
        let want = reference::gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap_err();
        let step = Step::<f64>::new(&kernels_config(&case.cfg)).unwrap();
        let data = Converted::<f64>::new(&case);
        let mut workspace = Workspace::new();
        let got = workspace.gradient(&step, &data.network(), &data.batch(), &data.loss()).unwrap_err();
        prop_assert_eq!(got.to_string(), want.to_string());
        let loss = workspace.loss(&step, &data.network(), &data.batch(), &data.loss()).unwrap_err();
        prop_assert_eq!(loss.to_string(), want.to_string());
        let expected = ["label out of range: labels[0]", "invalid loss: to_step", "invalid loss: from_step", "invalid loss: rate_penalty"];
        prop_assert!(got.to_string().starts_with(expected[which]), "{}", got);
    }
}

fn small_case() -> Case {
    use proptest::strategy::ValueTree;
    let mut runner = spikegrad_harness::seeded_runner(3);
    general_case(GateShape::RaisedCosine, small(), LossKind::Mse)
        .new_tree(&mut runner)
        .unwrap()
        .current()
}

#[test]
fn backward_needs_a_recorded_forward_run_of_the_same_inputs() {
    let case = small_case();
    let step = Step::<f64>::new(&kernels_config(&case.cfg)).unwrap();
    let data = Converted::<f64>::new(&case);
    let (net, batch) = (data.network(), data.batch());
    let (t, b, n_out) = (case.batch.t, case.batch.b, case.net.n_out);
    let dl_do = vec![0.0; t * b * n_out];
    let options = GradientOptions::default();
    let mut workspace = Workspace::new();
    let err = workspace.backward(&step, &net, &batch, &dl_do, None, options).unwrap_err();
    assert!(matches!(err, Error::NotRecorded { .. }), "{err}");
    workspace.forward(&step, &net, &batch, Record::Readout).unwrap();
    let err = workspace.backward(&step, &net, &batch, &dl_do, None, options).unwrap_err();
    assert!(err.to_string().contains("kept only its readout"), "{err}");
    workspace.forward(&step, &net, &batch, Record::Trajectory).unwrap();
    let err = workspace.backward(&step, &net, &batch, &dl_do[1..], None, options).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { array: "dL/do", .. }), "{err}");
    let x = &batch.x[..(t - 1) * b * case.net.n_in];
    let shorter = spikegrad::Batch::new(Inputs { t: t - 1, x, ..batch.inputs() });
    let err = workspace.backward(&step, &net, &shorter, &dl_do, None, options).unwrap_err();
    assert!(
        matches!(err, Error::NotRecorded { .. }) && err.to_string().contains("recorded run had"),
        "{err}"
    );
    let ok = workspace.backward(&step, &net, &batch, &dl_do, None, options).unwrap();
    assert!(ok.w.iter().all(|&x| x == 0.0), "a zero dL/do has a zero gradient");

    // Values other than the recorded run's, in arrays of the same shapes, are refused:
    // the reverse sweep would read states that are not this network's.
    let halves = vec![0.5; net.n * net.n];
    let mut w = net.w.to_vec();
    w[net.n * net.n - 1] += 1e-12;
    let mut x = batch.x.to_vec();
    x[0] = -x[0] + 1.0;
    let other_w = spikegrad::Network::new(Parameters { w: &w, ..net.parameters() });
    let other_x = spikegrad::Batch::new(Inputs { x: &x, ..batch.inputs() });
    let mut config = kernels_config(&case.cfg);
    config.tau *= 1.5;
    let other_step = Step::<f64>::new(&config).unwrap();
    let refusals = [
        workspace.backward(&step, &net.with_mask(&halves), &batch, &dl_do, None, options).err(),
        workspace.backward(&step, &other_w, &batch, &dl_do, None, options).err(),
        workspace.backward(&step, &net, &other_x, &dl_do, None, options).err(),
        workspace.backward(&other_step, &net, &batch, &dl_do, None, options).err(),
    ];
    for (what, err) in ["a mask", "one weight", "one input", "tau"].iter().zip(refusals) {
        let err = err.unwrap_or_else(|| panic!("{what} other than the recorded run's is refused"));
        assert!(err.to_string().contains("differ from the recorded run's"), "{what}: {err}");
    }
    // The recorded run is kept: the same inputs still go backward.
    workspace.backward(&step, &net, &batch, &dl_do, None, options).unwrap();
}

#[test]
fn trajectory_accessors_return_none_out_of_range() {
    let case = small_case();
    let step = Step::<f32>::new(&kernels_config(&case.cfg)).unwrap();
    let data = Converted::<f32>::new(&case);
    let mut workspace = Workspace::new();
    assert!(workspace.trajectory().is_none() && workspace.readout().is_none());
    workspace.forward(&step, &data.network(), &data.batch(), Record::Trajectory).unwrap();
    let tr = workspace.trajectory().unwrap();
    let t = tr.steps();
    assert!(tr.v(t).is_some() && tr.v(t + 1).is_none() && tr.s(t + 1).is_none());
    assert!(tr.current(t - 1).is_some() && tr.current(t).is_none());
    assert!(tr.readout(t - 1).is_some() && tr.readout(t).is_none() && tr.v(usize::MAX).is_none());
}

#[test]
fn a_run_too_large_for_memory_is_refused_before_allocating() {
    // The whole workspace a run needs is checked against the memory limit (by default
    // the machine's physical memory) before anything is allocated; a small limit shows
    // the check on a problem small enough to build here.
    let config =
        spikegrad::Config::new(1.0, 20.0, 50.0, spikegrad::Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<f32>::new(&config).unwrap();
    let (w, u, i0, o) = ([0.0f32], [0.0f32], [0.0f32], [1.0f32]);
    let net = spikegrad::Network::new(Parameters {
        n: 1,
        n_in: 1,
        n_out: 1,
        w: &w,
        u: &u,
        i0: &i0,
        o: &o,
    });
    let x = vec![0.0f32; 1000];
    let batch = spikegrad::Batch::new(Inputs { b: 1, t: 1000, v0: &[0.0], s0: &[0.0], x: &x });
    let mut workspace = Workspace::<f32>::new();
    if cfg!(target_os = "linux") {
        let limit = workspace.memory_limit();
        assert!(limit.is_some_and(|bytes| bytes > 1 << 20), "physical memory: {limit:?}");
    }
    workspace.set_memory_limit(Some(10_000));
    let err = workspace.forward(&step, &net, &batch, Record::Trajectory).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { .. }) && err.to_string().contains("memory limit"),
        "{err}"
    );
    assert!(workspace.readout().is_none(), "nothing ran");
    // Streaming needs O(N B + T B n_out): 1000 steps fit in 10 kB.
    workspace.forward(&step, &net, &batch, Record::Readout).unwrap();
    let (target, mask) = (vec![0.0f32; 1000], vec![1.0f32; 1000]);
    let err = workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask)).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    workspace.set_memory_limit(None);
    workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask)).unwrap();
}
