//! Prints, per parameter, the largest relative error between the reference gradient and
//! central finite differences over many random cases (counting coordinates whose
//! magnitude is at least 100 times the rounding floor of the check, where a relative
//! error means something) (the strategy of the proptest in
//! `tests/reference_vs_finite_differences.rs`, raised-cosine gate).
//!
//! ```text
//! cargo run --release -p spikegrad-harness --example fd_report -- [CASES] [SEED] [reference|kernels]
//! ```

use proptest::strategy::{Strategy, ValueTree};
use spikegrad::Backend;
use spikegrad_harness::engines::{kernel_outputs, rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{case, check_case, GateShape, Param, Shapes};
use spikegrad_reference::gradient;

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().map_or(256, |a| a.parse().expect("CASES is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED is a number"));
    let engine = args.next().unwrap_or_else(|| "reference".into());
    assert!(engine == "reference" || engine == "kernels", "ENGINE is reference or kernels");
    let mut runner = spikegrad_harness::seeded_runner(seed);
    let strategy = (
        case(GateShape::RaisedCosine, Shapes::default()),
        proptest::array::uniform2(proptest::num::u64::ANY),
    );

    let mut worst = [(0.0f64, 0usize, f64::NAN, f64::NAN); 6];
    let (mut checked, mut failed, mut set_aside) = (0usize, 0usize, 0usize);
    for case_no in 0..cases {
        let (case, picks) = strategy.new_tree(&mut runner).expect("strategy generates").current();
        if rounding_sensitivity(&case) > FD_CHECKABLE_SENSITIVITY {
            set_aside += 1;
            continue;
        }
        let grad = if engine == "kernels" {
            kernel_outputs::<f64>(&case, Backend::detect(), 1).expect("valid case runs").gradient
        } else {
            gradient(&case.cfg, &case.net, &case.batch).expect("valid case runs")
        };
        let rs = check_case(&case, &grad, &picks);
        for r in rs {
            checked += 1;
            if !r.passed {
                failed += 1;
                eprintln!("case {case_no}: FAILED {r:?}");
            }
            let slot = &mut worst[Param::ALL.iter().position(|&p| p == r.param).unwrap()];
            let significant =
                r.gradient.abs().max(r.finite_difference.abs()) > 100.0 * r.rounding_floor;
            if significant && r.relative_error > slot.0 {
                *slot = (r.relative_error, case_no, r.gradient, r.finite_difference);
            }
        }
    }
    println!(
        "{engine}: {cases} cases (seed {seed}), {set_aside} set aside as balanced on a threshold, \
         {checked} coordinates checked, {failed} outside tolerance"
    );
    println!(
        "{:<4} {:>12} {:>6} {:>14} {:>14}",
        "param", "max rel err", "case", "gradient", "finite diff"
    );
    for (param, (err, case_no, g, fd)) in Param::ALL.iter().zip(worst) {
        println!("{:<5} {:>12.3e} {:>6} {:>14.6e} {:>14.6e}", param.name(), err, case_no, g, fd);
    }
}
