//! The std baseline of the `step_kernels_std` benchmark computes what the SIMD kernels
//! compute (to f32 rounding), so the comparison between them is fair; and the problems
//! run without blowing up.

use spikegrad::{forward_step, reverse_step, Step, Workspace};
use spikegrad_benches::{std_forward_step, std_reverse_step, Problem, StdStep};

#[test]
fn std_steps_match_the_kernels() {
    let problem = Problem::new(37, 3, 10, 1);
    let (step, std_step) =
        (Step::<f32>::new(problem.config()).unwrap(), StdStep::new(problem.config()));
    let nb = 111;
    let pattern = |salt: f32| -> Vec<f32> {
        (0..nb).map(|i| ((i as f32 * 0.618034 + salt).fract() * 2.0 - 1.0) * 0.99).collect()
    };
    let (v, s, current, lam) = (pattern(0.1), pattern(0.2), pattern(0.3), pattern(0.4));
    let (mut a, mut b, mut c, mut d) = (vec![0.0; nb], vec![0.0; nb], vec![0.0; nb], vec![0.0; nb]);
    forward_step(&step, &v, &s, &current, &mut a, &mut b).unwrap();
    std_forward_step(&std_step, &v, &s, &current, &mut c, &mut d);
    for i in 0..nb {
        assert!((a[i] - c[i]).abs() < 1e-5 && (b[i] - d[i]).abs() < 1e-5, "forward lane {i}");
    }
    let zeros = vec![0.0; nb];
    let (mut lv1, mut lv2) = (lam.clone(), lam.clone());
    let (mut e1, mut e2, mut ls1, mut ls2) =
        (vec![0.0; nb], vec![0.0; nb], vec![0.0; nb], vec![0.0; nb]);
    reverse_step(&step, &v, &current, &mut lv1, &lam, &zeros, &mut e1, &mut ls1).unwrap();
    std_reverse_step(&std_step, &v, &current, &mut lv2, &lam, &zeros, &mut e2, &mut ls2);
    for i in 0..nb {
        assert!(
            (lv1[i] - lv2[i]).abs() < 1e-5
                && (e1[i] - e2[i]).abs() < 1e-5
                && (ls1[i] - ls2[i]).abs() < 1e-6,
            "reverse lane {i}"
        );
    }
}

#[test]
fn benchmark_problems_have_finite_gradients() {
    // Every configuration at full size, with the seed the benchmarks use.
    for (name, n, b, t) in spikegrad_benches::CONFIGURATIONS {
        let problem = Problem::new(n, b, t, 7);
        let step = Step::<f32>::new(problem.config()).unwrap();
        let mut workspace = Workspace::new();
        let gradient = workspace
            .gradient(&step, &problem.network(), &problem.batch(), &problem.loss())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(gradient.loss.is_finite() && gradient.w.iter().any(|&x| x != 0.0), "{name}");
    }
}
