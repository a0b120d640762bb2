//! Prints, per parameter and input, the largest relative error between a gradient and
//! central finite differences of the loss over many random cases (counting coordinates
//! whose magnitude is at least 100 times the rounding floor of the check, where a
//! relative error means something), raised-cosine gate.
//!
//! `plain` draws the cases of `tests/reference_vs_finite_differences.rs` (all-to-all,
//! masked MSE); `general` draws, for each loss of docs/model.md section 6 in turn, the
//! cases of `tests/general_vs_finite_differences.rs` (a rate penalty, a connectivity
//! mask, an external current and per-neuron time constants each drawn or not), and
//! reports dL/dW separately for the masked cases and dL/dtau, dL/dtau_s separately for
//! per-neuron and shared constants; `hopf` does the same with the Hopf-phase neuron.
//!
//! ```text
//! cargo run --release -p spikegrad-harness --example fd_report -- [CASES] [SEED] [reference|kernels] [plain|general|hopf]
//! ```

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use spikegrad::Backend;
use spikegrad_harness::engines::reference_outputs;
use spikegrad_harness::engines::{kernel_outputs, rounding_sensitivity, FD_CHECKABLE_SENSITIVITY};
use spikegrad_harness::{
    case, check_case, general_case, Case, GateShape, LossKind, Model, Param, Shapes,
};

/// The worst relative error seen for one row: (error, case number, gradient, fd).
type Worst = (f64, usize, f64, f64);

fn report(
    title: &str,
    strategy: BoxedStrategy<(Case, [u64; 2])>,
    cases: usize,
    seed: u64,
    engine: &str,
) {
    let mut runner = spikegrad_harness::seeded_runner(seed);
    let mut rows: Vec<(String, Worst)> = Vec::new();
    let (mut checked, mut failed, mut set_aside) = (0usize, 0usize, 0usize);
    let (mut masked, mut external, mut penalised, mut per_neuron) = (0usize, 0, 0, 0);
    for case_no in 0..cases {
        let (case, picks) = strategy.new_tree(&mut runner).expect("strategy generates").current();
        if rounding_sensitivity(&case) > FD_CHECKABLE_SENSITIVITY {
            set_aside += 1;
            continue;
        }
        masked += case.net.w_mask.is_some() as usize;
        external += case.batch.i_ext.is_some() as usize;
        penalised += (case.loss.rate_penalty > 0.0) as usize;
        per_neuron += case.net.tau.is_some() as usize;
        let grad = if engine == "kernels" {
            kernel_outputs::<f64>(&case, Backend::detect(), 1).expect("valid case runs").gradient
        } else {
            reference_outputs(&case).expect("valid case runs").gradient
        };
        for r in check_case(&case, &grad, &picks) {
            checked += 1;
            if !r.passed {
                failed += 1;
                eprintln!("{title} case {case_no}: FAILED {r:?}");
            }
            let mut name = r.param.name().to_string();
            if name == "W" && case.net.w_mask.is_some() {
                name.push_str(" (masked)");
            }
            let per_neuron_constant = match r.param {
                Param::Tau => Some(case.net.tau.is_some()),
                Param::TauS => Some(case.net.tau_s.is_some()),
                _ => None,
            };
            match per_neuron_constant {
                Some(true) => name.push_str(" (per neuron)"),
                Some(false) => name.push_str(" (shared)"),
                None => {}
            }
            let slot = match rows.iter().position(|(row, _)| *row == name) {
                Some(i) => i,
                None => {
                    rows.push((name, (0.0, 0, f64::NAN, f64::NAN)));
                    rows.len() - 1
                }
            };
            let significant =
                r.gradient.abs().max(r.finite_difference.abs()) > 100.0 * r.rounding_floor;
            if significant && r.relative_error > rows[slot].1 .0 {
                rows[slot].1 = (r.relative_error, case_no, r.gradient, r.finite_difference);
            }
        }
    }
    println!(
        "{title}, {engine}: {cases} cases (seed {seed}; {masked} masked, {external} with I_ext, \
         {penalised} with a rate penalty, {per_neuron} with per-neuron constants), {set_aside} \
         set aside as balanced on a threshold, {checked} coordinates checked, {failed} outside \
         tolerance"
    );
    println!(
        "{:<20} {:>12} {:>6} {:>14} {:>14}",
        "param", "max rel err", "case", "gradient", "finite diff"
    );
    for (name, (err, case_no, g, fd)) in rows {
        println!("{name:<20} {err:>12.3e} {case_no:>6} {g:>14.6e} {fd:>14.6e}");
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().map_or(256, |a| a.parse().expect("CASES is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED is a number"));
    let engine = args.next().unwrap_or_else(|| "reference".into());
    assert!(engine == "reference" || engine == "kernels", "ENGINE is reference or kernels");
    let kind = args.next().unwrap_or_else(|| "plain".into());
    let picks = proptest::array::uniform2(proptest::num::u64::ANY);
    let shape = GateShape::RaisedCosine;
    match kind.as_str() {
        "plain" => {
            let strategy = (case(shape, Shapes::default()), picks).boxed();
            report("plain (masked MSE)", strategy, cases, seed, &engine);
        }
        "general" | "hopf" => {
            let neuron = if kind == "hopf" { Model::HopfPhase } else { Model::Theta };
            for loss in LossKind::ALL {
                let strategy = general_case(shape, Shapes::default(), loss)
                    .prop_map(move |case| Case { neuron, ..case });
                let title = format!("{} ({})", loss.name(), neuron.reference().name());
                report(&title, (strategy, picks).boxed(), cases, seed, &engine);
                println!();
            }
        }
        other => panic!("KIND is plain, general or hopf, not {other}"),
    }
}
