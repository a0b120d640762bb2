//! The two properties every neuron model and step map other than the default is held
//! to, written once for the modules that draw its cases (`neuron_models`, `stable_step`).

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use spikegrad::Backend;
use spikegrad_harness::engines::{
    differences, kernel_outputs, kernel_tolerance, reference_outputs, rounding_sensitivity,
    FD_CHECKABLE_SENSITIVITY,
};
use spikegrad_harness::{check_case, Case};

/// The kernels (in f32 or f64, on the backend `pick` selects) equal the reference on
/// every output, within the case's tolerance; an ill-conditioned case is rejected.
pub fn kernels_equal_the_reference(
    case: &Case,
    pick: usize,
    f32: bool,
) -> Result<(), TestCaseError> {
    let all = Backend::all_available();
    let backend = all[pick % all.len()];
    let tolerance = if f32 { kernel_tolerance::<f32>(case) } else { kernel_tolerance::<f64>(case) };
    let Some(tolerance) = tolerance else {
        return Err(TestCaseError::reject("too ill-conditioned to compare"));
    };
    let want = reference_outputs(case).unwrap();
    let got = if f32 {
        kernel_outputs::<f32>(case, backend, 1)
    } else {
        kernel_outputs::<f64>(case, backend, 1)
    };
    let got = got.map_err(|e| TestCaseError::fail(e.to_string()))?;
    for (output, difference) in differences(&got, &want) {
        prop_assert!(
            difference <= tolerance,
            "{} f32={f32}: {output} differs by {difference:e} > {tolerance:e}",
            backend.name()
        );
    }
    Ok(())
}

/// The gradient (of the kernels in f64, or of the reference) equals central finite
/// differences on the coordinates `picks` choose; a case too sensitive to rounding for
/// the check is rejected.
pub fn gradients_equal_finite_differences(
    case: &Case,
    picks: &[u64; 2],
    kernels: bool,
) -> Result<(), TestCaseError> {
    prop_assume!(
        rounding_sensitivity(case) <= FD_CHECKABLE_SENSITIVITY,
        "not differentiable at a checkable scale"
    );
    let grad = if kernels {
        kernel_outputs::<f64>(case, Backend::detect(), 1).unwrap().gradient
    } else {
        reference_outputs(case).unwrap().gradient
    };
    for report in check_case(case, &grad, picks) {
        prop_assert!(report.passed, "kernels={kernels}: {report:?}");
    }
    Ok(())
}
