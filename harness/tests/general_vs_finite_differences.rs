//! The gradients of the general network and of every loss (docs/model.md sections 5 and
//! 6) equal central finite differences of the reference loss, for the reference and for
//! the kernels (f64, raised cosine): W (masked where a mask is drawn: the difference
//! quotient of a masked-out weight is exactly zero, and so must the gradient be), U,
//! I0, O, v0, s0, x and I_ext. Tolerance: `spikegrad_harness::finite_difference`;
//! cases set aside: `spikegrad_harness::engines::FD_CHECKABLE_SENSITIVITY`.

use proptest::prelude::*;
use spikegrad::Backend;
use spikegrad_harness::engines::{kernel_outputs, rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{check_case, general_case, Case, GateShape, LossKind, Shapes};
use spikegrad_reference::gradient;

fn check(case: &Case, picks: &[u64], kernels: bool) -> Result<(), TestCaseError> {
    prop_assume!(
        rounding_sensitivity(case) <= FD_CHECKABLE_SENSITIVITY,
        "not differentiable at a checkable scale"
    );
    let grad = if kernels {
        kernel_outputs::<f64>(case, Backend::detect(), 1).unwrap().gradient
    } else {
        gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap()
    };
    for report in check_case(case, &grad, picks) {
        prop_assert!(report.passed, "{:?} loss: {report:?}", case.loss.task);
    }
    Ok(())
}

fn general(kind: LossKind) -> impl Strategy<Value = Case> {
    general_case(GateShape::RaisedCosine, Shapes::default(), kind)
}

proptest! {
    #![proptest_config(spikegrad_harness::cases(48))]

    #[test]
    fn mse_reference(case in general(LossKind::Mse), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, false)?;
    }

    #[test]
    fn cross_entropy_reference(case in general(LossKind::CrossEntropy), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, false)?;
    }

    #[test]
    fn linear_reference(case in general(LossKind::Linear), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, false)?;
    }

    #[test]
    fn mse_kernels(case in general(LossKind::Mse), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, true)?;
    }

    #[test]
    fn cross_entropy_kernels(case in general(LossKind::CrossEntropy), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, true)?;
    }

    #[test]
    fn linear_kernels(case in general(LossKind::Linear), picks in proptest::array::uniform2(any::<u64>())) {
        check(&case, &picks, true)?;
    }
}
