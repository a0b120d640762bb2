//! Wide networks (N up to 200) against the reference, for one and two trials (where the
//! per-step products go through the row-accumulating SIMD kernel: whole blocks of 8
//! registers, leftover registers and leftover lanes) and for four (faer), every backend.

use proptest::prelude::*;
use spikegrad::Backend;
use spikegrad_harness::engines::{
    differences, kernel_outputs, kernel_tolerance, reference_outputs,
};
use spikegrad_harness::{case, GateShape, Shapes};

proptest! {
    #![proptest_config(spikegrad_harness::cases(24))]

    #[test]
    fn wide_networks_match_the_reference(
        case in case(GateShape::RaisedCosine, Shapes { max_n: 200, max_io: 2, max_b: 4, max_t: 30 }),
        pick: usize,
    ) {
        let all = Backend::all_available();
        let backend = all[pick % all.len()];
        let Some(tolerance) = kernel_tolerance::<f64>(&case) else {
            return Err(TestCaseError::reject("too ill-conditioned to compare"));
        };
        let want = reference_outputs(&case).unwrap();
        let got = kernel_outputs::<f64>(&case, backend, 1).unwrap();
        for (output, difference) in differences(&got, &want) {
            prop_assert!(difference <= tolerance, "{} N {}: {output} differs by {difference:e}", backend.name(), case.net.n);
        }
    }
}
