//! Prints the largest norm-wise difference between the kernels (f64 and f32, every
//! backend) and the reference, per output, over many random cases.
//!
//! ```text
//! cargo run --release -p spikegrad-harness --example kernel_report -- [CASES] [SEED]
//! ```

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use spikegrad::Backend;
use spikegrad_harness::engines::{
    differences, kernel_outputs, reference_outputs, rounding_sensitivity,
};
use spikegrad_harness::{case, GateShape, Shapes};

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().map_or(64, |a| a.parse().expect("CASES is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED is a number"));
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        proptest::test_runner::Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let strategy = (proptest::bool::ANY, 0usize..5).prop_flat_map(|(boxcar, backend)| {
        let shape = if boxcar { GateShape::Boxcar } else { GateShape::RaisedCosine };
        (case(shape, Shapes::default()), proptest::strategy::Just(backend))
    });
    let backends = Backend::all_available();
    let mut worst64: Vec<(&str, f64)> = Vec::new();
    let mut worst32: Vec<(&str, f64)> = Vec::new();
    let mut skipped = 0;
    for _ in 0..cases {
        let (case, backend) = strategy.new_tree(&mut runner).expect("generates").current();
        let backend = backends[backend % backends.len()];
        let sensitivity = rounding_sensitivity(&case);
        if sensitivity > 1e-14 && std::env::var("NOSKIP").is_err() {
            skipped += 1;
            continue;
        }
        let want = reference_outputs(&case).expect("valid case");
        for (precision, worst) in [(64, &mut worst64), (32, &mut worst32)] {
            let got = if precision == 64 {
                kernel_outputs::<f64>(&case, backend, 1)
            } else {
                kernel_outputs::<f32>(&case, backend, 1)
            };
            let got = match got {
                Ok(got) => got,
                Err(e) => {
                    println!("f{precision} {}: error {e}", backend.name());
                    continue;
                }
            };
            let d = differences(&got, &want);
            if std::env::var("NOSKIP").is_ok() {
                eprintln!("f{precision} {} n {} b {} t {} gate {:?} h {} tau {} sens {sensitivity:e}: {:?}", backend.name(), case.net.n, case.batch.b, case.batch.t, case.cfg.gate, case.cfg.h, case.cfg.tau, d);
            }
            if worst.is_empty() {
                *worst = d.clone();
            }
            for (slot, (_, x)) in worst.iter_mut().zip(d) {
                slot.1 = slot.1.max(x);
            }
        }
    }
    println!(
        "{cases} cases (seed {seed}), {skipped} skipped as ill-conditioned (rounding sensitivity > 1e-14); \
         largest norm-wise difference from the reference:"
    );
    println!("{:<6} {:>12} {:>12}", "output", "f64", "f32");
    for ((name, a), (_, b)) in worst64.iter().zip(&worst32) {
        println!("{name:<6} {a:>12.3e} {b:>12.3e}");
    }
}
