//! The activity-sparse sweeps (docs/model.md section 8) equal the dense ones and the
//! reference on every output but the constants' gradients (which run the dense reverse
//! sweep): the loss, the eight gradients with dL/dx and dL/dI_ext, and the v and s
//! trajectories; for both gates in f64 and the raised cosine in f32, every SIMD backend,
//! plain and general cases (masks, external currents, per-neuron time constants, every
//! loss, rate penalties), B 1..4, N 1..24, at the activities the strategy draws (gates
//! 0.3-1.9 wide, neurons resting and firing) and on narrow-gate networks where few
//! pairs are active. Tolerances: `kernel_tolerance`, as for the dense path.

use proptest::prelude::*;
use spikegrad::{Backend, Real, SweepPath};
use spikegrad_harness::engines::{
    differences, kernel_outputs_on_path, kernel_tolerance, reference_outputs, Outputs,
};
use spikegrad_harness::{case, general_case, Case, GateShape, LossKind, Shapes};

/// The outputs compared: all but the constants' gradients.
fn compared(got: &Outputs, want: &Outputs) -> Vec<(&'static str, f64)> {
    let skipped = ["dtau", "dtau_s", "dDelta"];
    differences(got, want).into_iter().filter(|(name, _)| !skipped.contains(name)).collect()
}

fn without_constants(mut outputs: Outputs) -> Outputs {
    outputs.gradient.tau.clear();
    outputs.gradient.tau_s.clear();
    outputs.gradient.delta = None;
    outputs
}

fn check<T: Real>(case: &Case, backend: Backend) -> Result<(), TestCaseError> {
    let Some(tolerance) = kernel_tolerance::<T>(case) else {
        return Err(TestCaseError::reject("too ill-conditioned at this precision to compare"));
    };
    let reference = without_constants(reference_outputs(case).unwrap());
    let run = |path| {
        kernel_outputs_on_path::<T>(case, backend, 1, path, false)
            .map_err(|e| TestCaseError::fail(e.to_string()))
    };
    let sparse = run(SweepPath::ActivitySparse)?;
    let dense = run(SweepPath::Dense)?;
    for (against, want) in [("reference", &reference), ("dense", &dense)] {
        for (output, difference) in compared(&sparse, want) {
            prop_assert!(
                difference <= tolerance,
                "{} on {}: sparse {output} differs from {against} by {difference:e} > {tolerance:e}",
                T::NAME,
                backend.name()
            );
        }
    }
    Ok(())
}

fn general(shape: GateShape) -> impl Strategy<Value = Case> {
    (0..3usize).prop_flat_map(move |k| general_case(shape, Shapes::default(), LossKind::ALL[k]))
}

/// A case with a narrow gate (Delta 0.1-0.3): each spike crosses the zone in a step or
/// two, so few pairs are active.
fn narrow(shape: GateShape) -> impl Strategy<Value = Case> {
    (general(shape), 0.1..0.3f64).prop_filter_map("narrow gate too wide for tau", |(mut c, d)| {
        c.cfg.gate = match c.cfg.gate {
            spikegrad_reference::Gate::Boxcar { .. } => {
                spikegrad_reference::Gate::Boxcar { delta: d }
            }
            spikegrad_reference::Gate::RaisedCosine { .. } => {
                spikegrad_reference::Gate::RaisedCosine { delta: d }
            }
        };
        // Keep the configuration valid: h <= tau Delta / 4.
        (c.cfg.h <= c.cfg.tau * d / 4.0 && reference_outputs(&c).is_ok()).then_some(c)
    })
}

fn backend(pick: usize) -> Backend {
    let all = Backend::all_available();
    all[pick % all.len()]
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(64))]

    #[test]
    fn raised_cosine_f64(case in case(GateShape::RaisedCosine, Shapes::default()), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn general_raised_cosine_f64(case in general(GateShape::RaisedCosine), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn general_boxcar_f64(case in general(GateShape::Boxcar), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn general_raised_cosine_f32(case in general(GateShape::RaisedCosine), pick: usize) {
        check::<f32>(&case, backend(pick))?;
    }

    #[test]
    fn narrow_raised_cosine_f64(case in narrow(GateShape::RaisedCosine), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn narrow_boxcar_f64(case in narrow(GateShape::Boxcar), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }
}

#[test]
fn parallel_parts_equal_the_dense_path() {
    // N B >= 4096: the sparse steps run in two parts, one per thread, each with its own
    // share of dL/dW summed at the end (rounding differs from one part: compared at the
    // tolerance of the thread-count test, threads_and_determinism).
    use proptest::strategy::ValueTree;
    let mut runner = spikegrad_harness::seeded_runner(9);
    let shapes = Shapes { max_n: 64, max_io: 2, max_b: 80, max_t: 300 };
    let strategy = general_case(GateShape::RaisedCosine, shapes, LossKind::Mse);
    let mut checked = 0;
    while checked < 3 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        if case.net.n * case.batch.b < 4096 || kernel_tolerance::<f64>(&case).is_none() {
            continue;
        }
        let run = |path, threads| {
            kernel_outputs_on_path::<f64>(&case, Backend::detect(), threads, path, false).unwrap()
        };
        let (sparse, dense) = (run(SweepPath::ActivitySparse, 2), run(SweepPath::Dense, 1));
        for (output, difference) in compared(&sparse, &dense) {
            assert!(
                difference <= 1e-10,
                "sparse on two threads: {output} differs by {difference:e}"
            );
        }
        checked += 1;
    }
}

#[test]
fn more_decays_than_max_groups_run_dense() {
    // Per-neuron tau_s with more than MAX_GROUPS distinct values: the sparse form would
    // keep y and E per value; the sweeps run dense instead, bit for bit the dense path.
    use proptest::strategy::ValueTree;
    let mut runner = spikegrad_harness::seeded_runner(11);
    let shapes = Shapes { max_n: 24, max_io: 2, max_b: 3, max_t: 200 };
    let strategy = general_case(GateShape::RaisedCosine, shapes, LossKind::Mse);
    let mut checked = 0;
    while checked < 3 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let distinct = case.net.tau_s.as_ref().map_or(1, |tau_s| {
            let mut values: Vec<u64> = tau_s.iter().map(|x| x.to_bits()).collect();
            values.sort_unstable();
            values.dedup();
            values.len()
        });
        if distinct <= spikegrad::MAX_GROUPS {
            continue;
        }
        let run = |path| kernel_outputs_on_path::<f64>(&case, Backend::detect(), 1, path, false);
        let (sparse, dense) = (run(SweepPath::ActivitySparse), run(SweepPath::Dense));
        match (sparse, dense) {
            (Ok(sparse), Ok(dense)) => {
                for (output, difference) in compared(&sparse, &dense) {
                    assert_eq!(difference, 0.0, "{output}: {distinct} decays, not the dense path");
                }
            }
            (sparse, dense) => assert_eq!(sparse.is_err(), dense.is_err()),
        }
        checked += 1;
    }
}
