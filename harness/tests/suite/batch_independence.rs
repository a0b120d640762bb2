//! Trials in a batch do not interact: the batch's loss is the mean of its trials' losses,
//! its parameter gradients the mean of theirs, and its dL/dv_0, dL/ds_0 rows those of the
//! single trials divided by B.

use approx::assert_relative_eq;
use proptest::prelude::*;
use spikegrad_harness::engines::{kernel_tolerance, normwise_difference};
use spikegrad_harness::{case, Case, GateShape, Shapes};
use spikegrad_reference::{gradient, Batch, Gradient, Loss, TaskLoss};

/// Trial `b` of the case, as a case of one trial: its batch and its loss.
fn trial(case: &Case, b: usize) -> (Batch, Loss) {
    let (n, n_in, n_out, nb) = (case.net.n, case.net.n_in, case.net.n_out, case.batch.b);
    let per_step = |data: &[f64], width: usize| -> Vec<f64> {
        (0..case.batch.t).flat_map(|t| data[(t * nb + b) * width..][..width].to_vec()).collect()
    };
    let batch = Batch {
        b: 1,
        t: case.batch.t,
        v0: case.batch.v0[b * n..][..n].to_vec(),
        s0: case.batch.s0[b * n..][..n].to_vec(),
        x: per_step(&case.batch.x, n_in),
        i_ext: case.batch.i_ext.as_ref().map(|i_ext| per_step(i_ext, n)),
    };
    let task = match &case.loss.task {
        TaskLoss::Mse { target, mask } => {
            TaskLoss::Mse { target: per_step(target, n_out), mask: per_step(mask, n_out) }
        }
        other => unreachable!("plain cases have an MSE loss, not {other:?}"),
    };
    (batch, Loss { task, rate_penalty: case.loss.rate_penalty })
}

fn check(shape: GateShape, case: Case) {
    let nb = case.batch.b as f64;
    let n = case.net.n;
    let whole = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap();
    let singles: Vec<_> = (0..case.batch.b)
        .map(|b| {
            let (batch, loss) = trial(&case, b);
            gradient(&case.cfg, &case.net, &batch, &loss).unwrap()
        })
        .collect();
    let mean = |pick: fn(&Gradient) -> &Vec<f64>| -> Vec<f64> {
        let mut sum = vec![0.0; pick(&singles[0]).len()];
        for single in &singles {
            for (acc, x) in sum.iter_mut().zip(pick(single)) {
                *acc += x / nb;
            }
        }
        sum
    };
    let loss: f64 = singles.iter().map(|g| g.loss).sum::<f64>() / nb;
    assert_relative_eq!(whole.loss, loss, max_relative = 1e-12, epsilon = 1e-300);
    // The forward sweeps are the same arithmetic trial by trial; the reverse sweeps
    // differ in rounding only ((h/B) m r against (h m r)/B), which the dynamics amplify
    // like any rounding difference: hence the conditioning-aware tolerance.
    let Some(tolerance) = kernel_tolerance::<f64>(&case) else {
        return; // balanced on a threshold: the last bit decides, nothing to compare
    };
    let per_trial = |pick: fn(&Gradient) -> &Vec<f64>| -> Vec<f64> {
        singles.iter().flat_map(|single| pick(single).iter().map(|x| x / nb)).collect()
    };
    for (name, got, want) in [
        ("dW", &whole.w, mean(|g| &g.w)),
        ("dU", &whole.u, mean(|g| &g.u)),
        ("dI0", &whole.i0, mean(|g| &g.i0)),
        ("dO", &whole.o, mean(|g| &g.o)),
        ("dv0", &whole.v0, per_trial(|g| &g.v0)),
        ("ds0", &whole.s0, per_trial(|g| &g.s0)),
    ] {
        let d = normwise_difference(got, &want);
        assert!(
            d <= tolerance,
            "{shape:?} {name}: batch and trials differ by {d:e} > {tolerance:e} (N = {n})"
        );
    }
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(64))]

    #[test]
    fn batch_equals_trials_run_one_by_one_raised_cosine(case in case(GateShape::RaisedCosine, Shapes::default())) {
        check(GateShape::RaisedCosine, case);
    }

    #[test]
    fn batch_equals_trials_run_one_by_one_boxcar(case in case(GateShape::Boxcar, Shapes::default())) {
        check(GateShape::Boxcar, case);
    }
}
