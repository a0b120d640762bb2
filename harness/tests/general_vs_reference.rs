//! The general network (connectivity mask, external current) and every loss of
//! docs/model.md section 6 (masked MSE, cross-entropy over a window, the linear loss,
//! each with or without a rate penalty): the kernels' loss, the eight gradients (with
//! dL/dx and dL/dI_ext) and the trajectories equal the reference's, in f64 for both
//! gates on every backend and in f32 for the raised cosine, to the tolerances of
//! `spikegrad_harness::engines::kernel_tolerance`.

use proptest::prelude::*;
use spikegrad::{Backend, Real};
use spikegrad_harness::engines::{
    differences, kernel_outputs, kernel_tolerance, reference_outputs,
};
use spikegrad_harness::{general_case, Case, GateShape, LossKind, Shapes};

fn check<T: Real>(case: &Case, pick: usize) -> Result<(), TestCaseError> {
    let all = Backend::all_available();
    let backend = all[pick % all.len()];
    let Some(tolerance) = kernel_tolerance::<T>(case) else {
        return Err(TestCaseError::reject("too ill-conditioned at this precision to compare"));
    };
    let want = reference_outputs(case).unwrap();
    let got =
        kernel_outputs::<T>(case, backend, 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (output, difference) in differences(&got, &want) {
        prop_assert!(
            difference <= tolerance,
            "{} on {} ({:?} loss): {output} differs by {difference:e} > {tolerance:e}",
            T::NAME,
            backend.name(),
            case.loss.task
        );
    }
    Ok(())
}

fn kind(pick: usize) -> LossKind {
    LossKind::ALL[pick % LossKind::ALL.len()]
}

fn general(shape: GateShape) -> impl Strategy<Value = Case> {
    (0..3usize).prop_flat_map(move |k| general_case(shape, Shapes::default(), kind(k)))
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(96))]

    #[test]
    fn general_raised_cosine_f64(case in general(GateShape::RaisedCosine), pick: usize) {
        check::<f64>(&case, pick)?;
    }

    #[test]
    fn general_boxcar_f64(case in general(GateShape::Boxcar), pick: usize) {
        check::<f64>(&case, pick)?;
    }

    #[test]
    fn general_raised_cosine_f32(case in general(GateShape::RaisedCosine), pick: usize) {
        check::<f32>(&case, pick)?;
    }
}
