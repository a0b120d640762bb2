//! The kernels' (f64) gradients equal central finite differences of the loss, on every
//! parameter and on v_0, s_0 (raised-cosine gate), on the automatic path and on the
//! activity-sparse one forced (docs/model.md section 8): a check that does not go through
//! the reference's derivation, so a mistake shared by both implementations would show
//! here.
//! Tolerance: `spikegrad_harness::finite_difference`; cases set aside:
//! `spikegrad_harness::engines::FD_CHECKABLE_SENSITIVITY`.

use proptest::prelude::*;
use spikegrad::{Backend, SweepPath};
use spikegrad_harness::engines::{
    kernel_outputs, kernel_outputs_on_path, rounding_sensitivity, FD_CHECKABLE_SENSITIVITY,
};
use spikegrad_harness::{case, check_case, GateShape, Param, Shapes};

proptest! {
    #![proptest_config(spikegrad_harness::long_cases(64))]

    #[test]
    fn kernel_gradient_matches_finite_differences(
        case in case(GateShape::RaisedCosine, Shapes::default()),
        picks in proptest::array::uniform2(any::<u64>()),
    ) {
        prop_assume!(rounding_sensitivity(&case) <= FD_CHECKABLE_SENSITIVITY, "not differentiable at a checkable scale");
        let got = kernel_outputs::<f64>(&case, Backend::detect(), 1).unwrap();
        for report in check_case(&case, &got.gradient, &picks) {
            prop_assert!(report.passed, "{report:?}");
        }
    }

    #[test]
    fn sparse_kernel_gradient_matches_finite_differences(
        case in case(GateShape::RaisedCosine, Shapes::default()),
        picks in proptest::array::uniform2(any::<u64>()),
    ) {
        prop_assume!(rounding_sensitivity(&case) <= FD_CHECKABLE_SENSITIVITY, "not differentiable at a checkable scale");
        // Without the constants' gradients (which run the dense reverse sweep): checked
        // on every other parameter.
        let path = SweepPath::ActivitySparse;
        let got = kernel_outputs_on_path::<f64>(&case, Backend::detect(), 1, path, false).unwrap();
        let constants = [Param::Tau, Param::TauS, Param::Delta];
        for report in check_case(&case, &got.gradient, &picks) {
            prop_assert!(report.passed || constants.contains(&report.param), "{report:?}");
        }
    }
}
