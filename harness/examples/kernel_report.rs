//! Prints how closely the kernels (f64 and f32, random backends) reproduce the reference
//! over many random cases (both gates in f64, the raised cosine in f32): per output, the largest norm-wise difference,
//! overall and over the cases held to the strict f64 tolerance 1e-12; and how many
//! differences exceeded `kernel_tolerance` (the property test's criterion).
//!
//! ```text
//! cargo run --release -p spikegrad-harness --example kernel_report -- [CASES] [SEED]
//! ```

use proptest::strategy::{Strategy, ValueTree};
use spikegrad::{Backend, Real};
use spikegrad_harness::engines::{
    differences, kernel_outputs, kernel_tolerance, reference_outputs, Outputs,
};
use spikegrad_harness::{case, Case, GateShape, Shapes};

#[derive(Default)]
struct Tally {
    compared: usize,
    set_aside: usize,
    strict: usize,
    over_tolerance: usize,
    worst: Vec<(&'static str, f64)>,
    worst_strict: Vec<(&'static str, f64)>,
}

impl Tally {
    fn add<T: Real>(&mut self, case: &Case, backend: Backend, want: &Outputs) {
        let Some(tolerance) = kernel_tolerance::<T>(case) else {
            self.set_aside += 1;
            return;
        };
        let got = kernel_outputs::<T>(case, backend, 1).expect("a comparable case runs");
        let d = differences(&got, want);
        self.compared += 1;
        if d.iter().any(|(_, x)| *x > tolerance) {
            self.over_tolerance += 1;
        }
        let strict = T::NAME == "f64" && tolerance <= 1e-12;
        self.strict += strict as usize;
        for (worst, take) in [(&mut self.worst, true), (&mut self.worst_strict, strict)] {
            if !take {
                continue;
            }
            if worst.is_empty() {
                *worst = d.iter().map(|(name, _)| (*name, 0.0)).collect();
            }
            for (slot, (_, x)) in worst.iter_mut().zip(&d) {
                slot.1 = slot.1.max(*x);
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cases: usize = args.next().map_or(256, |a| a.parse().expect("CASES is a number"));
    let seed: u64 = args.next().map_or(1, |a| a.parse().expect("SEED is a number"));
    let mut runner = spikegrad_harness::seeded_runner(seed);
    let backends = Backend::all_available();
    let (mut f64s, mut f32s) = (Tally::default(), Tally::default());
    for i in 0..cases {
        let shape = if i % 2 == 0 { GateShape::Boxcar } else { GateShape::RaisedCosine };
        let case =
            case(shape, Shapes::default()).new_tree(&mut runner).expect("generates").current();
        let backend = backends[i % backends.len()];
        let want = reference_outputs(&case).expect("valid case");
        f64s.add::<f64>(&case, backend, &want);
        if shape == GateShape::RaisedCosine {
            f32s.add::<f32>(&case, backend, &want);
        }
    }
    println!("{cases} cases (seed {seed}), both gates, backends in turn:");
    for (name, t) in [("f64", &f64s), ("f32", &f32s)] {
        println!(
            "  {name}: {} compared, {} set aside as ill-conditioned, {} over tolerance{}",
            t.compared,
            t.set_aside,
            t.over_tolerance,
            if name == "f64" { format!(", {} held to 1e-12", t.strict) } else { String::new() }
        );
    }
    println!("largest norm-wise difference from the reference:");
    println!("{:<6} {:>14} {:>14} {:>14}", "output", "f64 (1e-12)", "f64 (all)", "f32 (all)");
    for ((name, strict), ((_, all64), (_, all32))) in
        f64s.worst_strict.iter().zip(f64s.worst.iter().zip(&f32s.worst))
    {
        println!("{name:<6} {strict:>14.2e} {all64:>14.2e} {all32:>14.2e}");
    }
}
