//! The kernels' (f64) gradients equal central finite differences of the loss, on every
//! parameter and on v_0, s_0 (raised-cosine gate): a check that does not go through the
//! reference's derivation, so a mistake shared by both implementations would show here.
//! Tolerance: `spikegrad_harness::finite_difference`; cases set aside:
//! `spikegrad_harness::engines::FD_CHECKABLE_SENSITIVITY`.

use proptest::prelude::*;
use spikegrad::Backend;
use spikegrad_harness::engines::{kernel_outputs, rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{case, check_case, GateShape, Shapes};

proptest! {
    #![proptest_config(spikegrad_harness::cases(64))]

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
}
