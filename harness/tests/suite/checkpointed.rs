//! A gradient whose recorded trajectory exceeds the workspace's recording limit is
//! checkpointed (docs/model.md section 8's paths, `Workspace::set_recording_limit`), and
//! gives the recorded gradient bit for bit at the same thread count: every output
//! (loss, the eight gradients with dL/dx and dL/dI_ext, the constants' gradients), on
//! the dense, activity-sparse and automatic paths, f64 and f32, general cases (masks,
//! external currents, per-neuron time constants, every loss, rate penalties) of T 300 to
//! 1500 steps (so that there are several segments), and on a batch large enough for the
//! sparse steps to run in parallel parts.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use spikegrad::{Backend, Gradient, GradientOptions, Real, Step, SweepPath, Workspace};
use spikegrad_harness::engines::{kernels_config, Converted};
use spikegrad_harness::{general_case, Case, GateShape, LossKind, Shapes};

fn gradient<T: Real>(
    case: &Case,
    threads: usize,
    path: SweepPath,
    limit: Option<usize>,
) -> Result<Gradient<T>, spikegrad::Error> {
    let step = Step::<T>::with_backend(&kernels_config(&case.cfg), Backend::detect())?;
    let data = Converted::<T>::new(case);
    let mut workspace = Workspace::<T>::with_threads(threads);
    workspace.set_sweep_path(path);
    workspace.set_recording_limit(limit);
    let constants = path != SweepPath::ActivitySparse;
    let options = GradientOptions::default().with_input(true).with_current(true);
    let options = options.with_constants(constants);
    let (net, batch, loss) = (data.network(), data.batch(), data.loss());
    let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?.clone();
    // A checkpointed run holds one segment: no whole trajectory to hand out.
    let checkpointed = limit.is_some() && segment(case.batch.b, case.batch.t) < case.batch.t;
    assert_eq!(workspace.trajectory().is_none(), checkpointed);
    Ok(g)
}

/// The segment length the workspace picks: ceil(sqrt(T)) rounded up to a multiple of
/// lcm(64, block), block = 256 / B steps (at most T). With B 3 that is 5440 steps: the
/// proptest's B 3 cases are recorded, B 1 and 2 checkpointed.
fn segment(b: usize, t: usize) -> usize {
    let block = (256 / b).clamp(1, t);
    let (mut x, mut y) = (64, block);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    let unit = 64 / x * block;
    ((t as f64).sqrt().ceil() as usize).div_ceil(unit) * unit
}

fn check<T: Real>(case: &Case, threads: usize) -> Result<(), TestCaseError> {
    for path in [SweepPath::Dense, SweepPath::ActivitySparse, SweepPath::Automatic] {
        let recorded = gradient::<T>(case, threads, path, None);
        let checkpointed = gradient::<T>(case, threads, path, Some(1));
        match (recorded, checkpointed) {
            (Ok(recorded), Ok(checkpointed)) => prop_assert!(
                recorded == checkpointed,
                "{} {path:?}: checkpointed gradient differs from the recorded one",
                T::NAME
            ),
            // Both refuse a run whose states or costates overflow, with the same error.
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "{path:?}: recorded {a:?}, checkpointed {b:?}"),
        }
    }
    Ok(())
}

fn long(shape: GateShape) -> impl Strategy<Value = Case> {
    let shapes = Shapes { max_n: 10, max_io: 3, max_b: 3, max_t: 1500 };
    (0..3usize)
        .prop_flat_map(move |k| general_case(shape, shapes, LossKind::ALL[k]))
        .prop_filter("several segments", |case| case.batch.t >= 300)
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(24))]

    #[test]
    fn raised_cosine_f64(case in long(GateShape::RaisedCosine)) {
        check::<f64>(&case, 1)?;
    }

    #[test]
    fn boxcar_f64(case in long(GateShape::Boxcar)) {
        check::<f64>(&case, 1)?;
    }

    #[test]
    fn raised_cosine_f32(case in long(GateShape::RaisedCosine)) {
        check::<f32>(&case, 1)?;
    }
}

#[test]
fn parallel_parts_two_threads() {
    // N B >= 4096: the sparse steps run in two parts, one per thread.
    let mut runner = spikegrad_harness::seeded_runner(5);
    let shapes = Shapes { max_n: 64, max_io: 2, max_b: 80, max_t: 700 };
    let strategy = general_case(GateShape::RaisedCosine, shapes, LossKind::Mse);
    let mut checked = 0;
    while checked < 2 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        if case.net.n * case.batch.b < 4096 || case.batch.t < 300 {
            continue;
        }
        check::<f64>(&case, 2).unwrap();
        check::<f32>(&case, 2).unwrap();
        checked += 1;
    }
}
