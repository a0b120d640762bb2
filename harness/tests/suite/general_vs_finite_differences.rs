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
    #![proptest_config(spikegrad_harness::long_cases(48))]

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

proptest! {
    #![proptest_config(spikegrad_harness::cases(16))]

    /// The checker is not so lenient that a wrong gradient passes: the adjoint's value
    /// scaled by 1.01 (a 1% error, far smaller than a sign or factor mistake) fails on
    /// the coordinates it can resolve, for every loss.
    #[test]
    fn a_gradient_off_by_one_percent_is_caught(
        case in (0..3usize).prop_flat_map(|k| general(LossKind::ALL[k])),
        picks in proptest::array::uniform2(any::<u64>()),
    ) {
        prop_assume!(rounding_sensitivity(&case) <= FD_CHECKABLE_SENSITIVITY, "not differentiable at a checkable scale");
        let grad = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap();
        let (mut resolved, mut caught) = (0, 0);
        for report in check_case(&case, &grad, &picks) {
            // Only coordinates the check resolves to 1e-3: far above its rounding floor
            // and passed with a relative error below 1e-3.
            if !report.passed || report.relative_error > 1e-3 || report.gradient.abs() < 1e3 * report.rounding_floor {
                continue;
            }
            resolved += 1;
            let wrong = spikegrad_harness::check_gradient(&case, grad.loss, report.param, report.index, report.gradient * 1.01);
            caught += (!wrong.passed) as usize;
        }
        prop_assume!(resolved > 0, "no coordinate resolved to 1e-3");
        prop_assert_eq!(caught, resolved, "{} of {} resolved coordinates caught", caught, resolved);
    }
}
