//! Criterion benchmarks with stable ids: groups `S1`, `S2`, `S3` (DESIGN.md's (N, B, T)
//! configurations, f32, n_in = n_out = 2, raised-cosine gate), each with
//!
//! - `forward`: the recorded forward sweep (no loss: inference);
//! - `gradient`: forward + reverse, every gradient, on the automatic path (dense or
//!   activity-sparse, docs/model.md section 8, as the measured activity says);
//! - `gradient_dense`: the same on the dense path forced;
//! - `gradient_midpoint`: `gradient` with the theta neuron's midpoint step map
//!   (docs/model.md section 9) instead of the Euler step;
//! - `gradient_constants`: the same with per-neuron tau and tau_s and the gradients of
//!   the constants (dL/dtau, dL/dtau_s, dL/dDelta): the cost of asking for them;
//! - `step_kernels`: the SIMD elementwise forward and reverse kernels alone, T steps each;
//! - `step_kernels_std`: the same loop in plain Rust with std's sin/cos (the baseline);
//! - `gemm_limit`: the bare matrix products one gradient performs, nothing else.
//!
//! groups `A1`, `A2` (networks at a few percent active pairs, [`Problem::sparse`]) with
//! `gradient`, `gradient_dense`, `gradient_midpoint` (the theta neuron's midpoint step
//! map, docs/model.md section 9) and `gemm_limit`; each group prints its measured
//! fraction of (neuron, trial, step) triples in the gate's zone;
//! and a group `train` at the XOR training step's size (N 64, B 64, T 500), where the
//! per-step products are too small for a second core: `gradient` (one workspace, as in
//! the S groups) against `shards_1` and `shards_2` (spikegrad-train's data-parallel
//! gradient on 1 and 2 threads) and `shards_2_f64` (the same in f64).
//!
//! `cargo bench -p spikegrad-benches -- --save-baseline NAME` / `--baseline NAME`.

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use spikegrad::{
    forward_step, reverse_step, GradientOptions, Record, Step, SweepPath, ThetaMidpoint, Workspace,
};
use spikegrad_benches::{
    active_fraction, std_forward_step, std_reverse_step, GemmLimit, Problem, StdStep,
    CONFIGURATIONS, SPARSE_CONFIGURATIONS,
};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::shards::Shards;
use std::hint::black_box;
use std::time::Duration;

/// State vectors of one step, spread over the circle and over both signs of current.
fn step_data(nb: usize) -> [Vec<f32>; 4] {
    let pattern = |salt: f32| {
        (0..nb).map(|i| ((i as f32 * 0.618034 + salt).fract() * 2.0 - 1.0) * 0.99).collect()
    };
    [pattern(0.1), pattern(0.2), pattern(0.3), pattern(0.4)]
}

/// Prints the fraction of (neuron, trial, step) triples in the gate's zone of a
/// problem's forward run (what the activity-sparse path's cost follows).
fn print_activity(name: &str, problem: &Problem) {
    let step = Step::<f32>::new(problem.config()).expect("valid configuration");
    let mut workspace = Workspace::<f32>::new();
    workspace
        .forward(&step, &problem.network(), &problem.batch(), Record::Trajectory)
        .expect("finite");
    let fraction = active_fraction(&workspace, problem.config().gate.delta()).expect("recorded");
    eprintln!("{name}: {:.2}% of (neuron, trial, step) in the active zone", 100.0 * fraction);
}

fn sweeps(c: &mut Criterion) {
    eprintln!("spikegrad backend: {}", spikegrad::Backend::detect().name());
    for (name, n, b, t) in CONFIGURATIONS {
        let problem = Problem::new(n, b, t, 7);
        let step = Step::<f32>::new(problem.config()).expect("valid configuration");
        let (net, batch) = (problem.network(), problem.batch());
        let mut workspace = Workspace::<f32>::new();
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));

        group.bench_function("forward", |bench| {
            bench.iter(|| {
                workspace.forward(&step, &net, &batch, Record::Trajectory).expect("finite");
                black_box(workspace.readout());
            })
        });
        group.bench_function("gradient", |bench| {
            bench.iter(|| {
                black_box(
                    workspace.gradient(&step, &net, &batch, &problem.loss()).expect("finite").loss,
                )
            })
        });
        // The same gradient with the theta neuron's midpoint step (docs/model.md section 9).
        let midpoint = Step::<f32, ThetaMidpoint>::with_neuron(problem.config(), ThetaMidpoint)
            .expect("valid configuration");
        let mut midpoint_workspace = Workspace::<f32>::new();
        group.bench_function("gradient_midpoint", |bench| {
            bench.iter(|| {
                let g = midpoint_workspace
                    .gradient(&midpoint, &net, &batch, &problem.loss())
                    .expect("finite");
                black_box(g.loss)
            })
        });
        let mut dense = Workspace::<f32>::new();
        dense.set_sweep_path(SweepPath::Dense);
        group.bench_function("gradient_dense", |bench| {
            bench.iter(|| {
                black_box(
                    dense.gradient(&step, &net, &batch, &problem.loss()).expect("finite").loss,
                )
            })
        });
        print_activity(name, &problem);

        // Per-neuron constants spread around the shared ones (tau x [1, 1.5], tau_s x [1, 2]).
        let c = problem.config();
        let tau: Vec<f32> =
            (0..n).map(|j| (c.tau * (1.0 + 0.5 * j as f64 / n as f64)) as f32).collect();
        let tau_s: Vec<f32> =
            (0..n).map(|j| (c.tau_s * (1.0 + j as f64 / n as f64)) as f32).collect();
        let per_neuron = net.with_tau(&tau).with_tau_s(&tau_s);
        let mut constants_workspace = Workspace::<f32>::new();
        let constants = GradientOptions::default().with_constants(true);
        group.bench_function("gradient_constants", |bench| {
            bench.iter(|| {
                let g = constants_workspace
                    .gradient_with_options(&step, &per_neuron, &batch, &problem.loss(), constants)
                    .expect("finite");
                black_box((g.loss, g.delta))
            })
        });

        step_kernel_benches(&mut group, &step, &problem, (n * b, t));
        let mut limit = GemmLimit::new(&problem, workspace.threads());
        group.bench_function("gemm_limit", |bench| bench.iter(|| limit.run()));
        group.finish();
    }
}

/// The step kernels alone on `nb` states for `t` steps: the SIMD ones and the plain std
/// ones of the same arithmetic.
fn step_kernel_benches(
    group: &mut BenchmarkGroup<'_, WallTime>,
    step: &Step<f32>,
    problem: &Problem,
    (nb, t): (usize, usize),
) {
    let [v, s, current, lam] = step_data(nb);
    let (mut v2, mut s2) = (v.clone(), s.clone());
    let (mut lam_v, mut e, mut lam_s) = (lam.clone(), vec![0.0f32; nb], vec![0.0f32; nb]);
    let d = vec![0.0f32; nb];
    group.bench_function("step_kernels", |bench| {
        bench.iter(|| {
            for _ in 0..t {
                forward_step(step, &v, &s, &current, &mut v2, &mut s2).expect("finite");
                reverse_step(step, &v, &current, &mut lam_v, &lam, &d, &mut e, &mut lam_s)
                    .expect("finite");
                lam_v.copy_from_slice(&lam);
            }
            black_box((&v2, &s2, &e, &lam_s));
        })
    });
    let std_step = StdStep::new(problem.config());
    group.bench_function("step_kernels_std", |bench| {
        bench.iter(|| {
            for _ in 0..t {
                std_forward_step(&std_step, &v, &s, &current, &mut v2, &mut s2);
                std_reverse_step(&std_step, &v, &current, &mut lam_v, &lam, &d, &mut e, &mut lam_s);
                lam_v.copy_from_slice(&lam);
            }
            black_box((&v2, &s2, &e, &lam_s));
        })
    });
}

/// The activity-sparse groups `A1`, `A2`: networks at a few percent active pairs
/// ([`Problem::sparse`], the fraction printed), `gradient` (the automatic path),
/// `gradient_dense` (the dense path forced), `gradient_midpoint` (the automatic path with
/// the midpoint step map) and `gemm_limit` (the dense products alone).
fn sparse_sweeps(c: &mut Criterion) {
    for (name, n, b, t) in SPARSE_CONFIGURATIONS {
        let problem = Problem::sparse(n, b, t, 7);
        let step = Step::<f32>::new(problem.config()).expect("valid configuration");
        let (net, batch) = (problem.network(), problem.batch());
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        print_activity(name, &problem);
        for (id, path) in [("gradient", SweepPath::Automatic), ("gradient_dense", SweepPath::Dense)]
        {
            let mut workspace = Workspace::<f32>::new();
            workspace.set_sweep_path(path);
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    black_box(
                        workspace
                            .gradient(&step, &net, &batch, &problem.loss())
                            .expect("finite")
                            .loss,
                    )
                })
            });
        }
        let midpoint = Step::<f32, ThetaMidpoint>::with_neuron(problem.config(), ThetaMidpoint)
            .expect("valid configuration");
        let mut midpoint_workspace = Workspace::<f32>::new();
        group.bench_function("gradient_midpoint", |bench| {
            bench.iter(|| {
                let g = midpoint_workspace
                    .gradient(&midpoint, &net, &batch, &problem.loss())
                    .expect("finite");
                black_box(g.loss)
            })
        });
        let mut limit = GemmLimit::new(&problem, Workspace::<f32>::new().threads());
        group.bench_function("gemm_limit", |bench| bench.iter(|| limit.run()));
        group.finish();
    }
}

fn training_step(c: &mut Criterion) {
    let problem = Problem::new(64, 64, 500, 7);
    let step = Step::<f32>::new(problem.config()).expect("valid configuration");
    let net = problem.network();
    let mut group = c.benchmark_group("train");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut workspace = Workspace::<f32>::new();
    group.bench_function("gradient", |bench| {
        bench.iter(|| {
            black_box(
                workspace
                    .gradient(&step, &net, &problem.batch(), &problem.loss())
                    .expect("finite")
                    .loss,
            )
        })
    });
    for count in [1, 2] {
        let mut shards =
            Shards::<f32>::new(problem.config(), PhaseStep::Euler, count).expect("valid");
        group.bench_function(format!("shards_{count}"), |bench| {
            bench.iter(|| {
                black_box(shards.gradient(&problem.model, &problem.trials).expect("finite").loss)
            })
        });
    }
    let mut shards = Shards::<f64>::new(problem.config(), PhaseStep::Euler, 2).expect("valid");
    group.bench_function("shards_2_f64", |bench| {
        bench.iter(|| {
            black_box(shards.gradient(&problem.model, &problem.trials).expect("finite").loss)
        })
    });
    group.finish();
}

criterion_group!(benches, sweeps, sparse_sweeps, training_step);
criterion_main!(benches);
