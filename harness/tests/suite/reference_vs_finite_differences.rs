//! The reference's adjoint gradient equals central finite differences of its own loss
//! (f64, raised-cosine gate), for every parameter and for v_0 and s_0. The tolerance and
//! why it is right are in `spikegrad_harness::finite_difference`. Cases balanced on a
//! threshold, which no finite difference can resolve, are set aside: see
//! `spikegrad_harness::engines::FD_CHECKABLE_SENSITIVITY`.

use proptest::prelude::*;
use spikegrad_harness::engines::{rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{case, check_case, GateShape, Shapes};
use spikegrad_reference::gradient;

proptest! {
    #![proptest_config(spikegrad_harness::long_cases(256))]

    #[test]
    fn reference_gradient_matches_finite_differences(
        case in case(GateShape::RaisedCosine, Shapes::default()),
        picks in proptest::array::uniform2(any::<u64>()),
    ) {
        prop_assume!(rounding_sensitivity(&case) <= FD_CHECKABLE_SENSITIVITY, "not differentiable at a checkable scale");
        let grad = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap();
        for report in check_case(&case, &grad, &picks) {
            prop_assert!(report.passed, "{report:?}");
        }
    }
}
