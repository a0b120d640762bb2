//! Results do not depend on the thread count beyond rounding, and are bit-identical run
//! after run with the same thread count. The shapes are drawn large enough (N up to 320,
//! B up to 24) for the per-step products to go parallel (at least
//! `PARALLEL_MIN_FLOPS`, 2 MFLOP, each), and each case asserts that they do.

use proptest::strategy::{Strategy, ValueTree};
use spikegrad::{Backend, Real, Step, Workspace};
use spikegrad_harness::engines::{kernels_config, normwise_difference, Converted};
use spikegrad_harness::{case, GateShape, Shapes};

fn large_case(seed: u8) -> spikegrad_harness::Case {
    let mut runner = spikegrad_harness::seeded_runner(seed as u64);
    let strategy =
        case(GateShape::RaisedCosine, Shapes { max_n: 320, max_io: 2, max_b: 24, max_t: 40 });
    // Draw until the case is big enough to go parallel.
    loop {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        if spikegrad::internals::sweep_threads(2, case.net.n, case.batch.b) == 2 {
            return case;
        }
    }
}

fn gradient<T: Real>(case: &spikegrad_harness::Case, threads: usize) -> spikegrad::Gradient<T> {
    let step = Step::<T>::with_backend(&kernels_config(&case.cfg), Backend::detect()).unwrap();
    let data = Converted::<T>::new(case);
    let mut workspace = Workspace::<T>::with_threads(threads);
    workspace.gradient(&step, &data.network(), &data.batch(), &data.loss()).unwrap().clone()
}

fn widen<T: Real>(x: &[T]) -> Vec<f64> {
    x.iter().map(|x| x.to_f64()).collect()
}

fn check<T: Real>(tolerance: f64) {
    for seed in 1..=3 {
        let case = large_case(seed);
        // Two threads must mean two: the workspace keeps the count it is given, and the
        // case's per-step products are above the threshold at which a sweep shares them.
        assert_eq!(Workspace::<T>::with_threads(2).threads(), 2);
        let (n, b) = (case.net.n, case.batch.b);
        assert_eq!(spikegrad::internals::sweep_threads(2, n, b), 2, "N {n}, B {b}: parallel");
        let one = gradient::<T>(&case, 1);
        let two = gradient::<T>(&case, 2);
        assert_eq!(gradient::<T>(&case, 1), one, "{}: one thread, run twice, same bits", T::NAME);
        assert_eq!(gradient::<T>(&case, 2), two, "{}: two threads, run twice, same bits", T::NAME);
        for (name, a, b) in [
            ("dW", &one.w, &two.w),
            ("dU", &one.u, &two.u),
            ("dI0", &one.i0, &two.i0),
            ("dO", &one.o, &two.o),
            ("dv0", &one.v0, &two.v0),
            ("ds0", &one.s0, &two.s0),
        ] {
            let d = normwise_difference(&widen(a), &widen(b));
            assert!(d <= tolerance, "{} {name}: 1 vs 2 threads differ by {d:e}", T::NAME);
        }
        assert!((one.loss - two.loss).abs() <= tolerance * one.loss.abs());
    }
}

#[test]
fn f64_one_and_two_threads_agree_to_rounding() {
    // faer's parallel products sum in another order: differences of a few ulps, amplified
    // by the dynamics like any rounding difference (see kernels_vs_reference).
    check::<f64>(1e-10);
}

#[test]
fn f32_one_and_two_threads_agree_to_rounding() {
    check::<f32>(1e-3);
}
