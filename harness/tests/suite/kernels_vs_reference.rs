//! The kernels' trial-level forward and gradient equal the reference on every output
//! (loss, the eight gradients with dL/dx and dL/dI_ext, the v and s trajectories), for
//! both gates in f64 and the raised cosine in f32 (why not the boxcar: see
//! `kernel_tolerance`), every SIMD backend and B 1..4, N 1..24 (mostly not multiples of
//! any lane count): on plain cases (masked MSE) and on general ones (docs/model.md
//! sections 5-6: a connectivity mask and an external current each drawn or not, every
//! loss, with or without a rate penalty). Tolerances: `spikegrad_harness::engines::kernel_tolerance` (1e-12 norm-wise
//! for f64 wherever the case's conditioning allows it, which is most cases; cases too
//! ill-conditioned to compare at a precision are rejected, about 1 in 100).

use proptest::prelude::*;
use spikegrad::{Backend, Real};
use spikegrad_harness::engines::{
    differences, kernel_outputs, kernel_tolerance, reference_outputs,
};
use spikegrad_harness::{case, general_case, Case, GateShape, LossKind, Shapes};

fn check<T: Real>(case: &Case, backend: Backend) -> Result<(), TestCaseError> {
    let Some(tolerance) = kernel_tolerance::<T>(case) else {
        return Err(TestCaseError::reject("too ill-conditioned at this precision to compare"));
    };
    let want = reference_outputs(case).unwrap();
    let got =
        kernel_outputs::<T>(case, backend, 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (output, difference) in differences(&got, &want) {
        prop_assert!(
            difference <= tolerance,
            "{} on {}: {output} differs by {difference:e} > {tolerance:e}",
            T::NAME,
            backend.name()
        );
    }
    Ok(())
}

/// A general case (docs/model.md sections 5-6) with any of the three losses.
fn general(shape: GateShape) -> impl Strategy<Value = Case> {
    (0..3usize).prop_flat_map(move |k| general_case(shape, Shapes::default(), LossKind::ALL[k]))
}

fn backend(pick: usize) -> Backend {
    let all = Backend::all_available();
    all[pick % all.len()]
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(96))]

    #[test]
    fn raised_cosine_f64(case in case(GateShape::RaisedCosine, Shapes::default()), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn boxcar_f64(case in case(GateShape::Boxcar, Shapes::default()), pick: usize) {
        check::<f64>(&case, backend(pick))?;
    }

    #[test]
    fn raised_cosine_f32(case in case(GateShape::RaisedCosine, Shapes::default()), pick: usize) {
        check::<f32>(&case, backend(pick))?;
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
}
