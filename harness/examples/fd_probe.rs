//! Investigates cases the finite-difference check rejects: for each, prints the central
//! differences D(eps) at half-decade steps and their Richardson extrapolations
//! (4 D(eps/2) - D(eps)) / 3 next to the adjoint gradient, so one can see whether the
//! differences converge to the gradient (truncation error) or away from it.
//!
//! ```text
//! cargo run --release -p spikegrad-harness --example fd_probe -- [CASES] [SEED] [mse|cross_entropy|linear]
//! ```
//!
//! With `FD_PROBE_ALL=1` it prints every checked coordinate, not only rejected ones.

use proptest::strategy::{Strategy, ValueTree};
use spikegrad_harness::engines::{rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{check_case, general_case, GateShape, LossKind, Shapes};
use spikegrad_reference::gradient;

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().map_or(64, |a| a.parse().expect("CASES is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED is a number"));
    let kind = match args.next().as_deref().unwrap_or("mse") {
        "mse" => LossKind::Mse,
        "cross_entropy" => LossKind::CrossEntropy,
        _ => LossKind::Linear,
    };
    let strategy = (
        general_case(GateShape::RaisedCosine, Shapes::default(), kind),
        proptest::array::uniform2(proptest::num::u64::ANY),
    );
    let mut runner = spikegrad_harness::seeded_runner(seed);
    for case_no in 0..cases {
        let (case, picks) = strategy.new_tree(&mut runner).unwrap().current();
        if rounding_sensitivity(&case) > FD_CHECKABLE_SENSITIVITY {
            continue;
        }
        let grad = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap();
        let all = std::env::var_os("FD_PROBE_ALL").is_some();
        for r in check_case(&case, &grad, &picks).into_iter().filter(|r| all || !r.passed) {
            println!(
                "case {case_no} {} [{}]: adjoint {:.9e}, checker's fd {:.9e} (rel {:.2e}); loss {:.3e}, N {}, T {}, h {:.3}, tau {:.2}, tau_s {:.1}",
                r.param.name(), r.index, r.gradient, r.finite_difference, r.relative_error, grad.loss,
                case.net.n, case.batch.t, case.cfg.h, case.cfg.tau, case.cfg.tau_s
            );
            for row in
                spikegrad_harness::finite_difference::difference_table(&case, r.param, r.index)
            {
                println!(
                    "  eps {:9.2e}: D {:.9e} ({:+.2e})   Richardson {:.9e} ({:+.2e})",
                    row.0,
                    row.1,
                    (row.1 - r.gradient) / r.gradient.abs(),
                    row.2,
                    (row.2 - r.gradient) / r.gradient.abs()
                );
            }
        }
    }
}
