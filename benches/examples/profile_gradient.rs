//! Runs one benchmark configuration's gradient in a loop, for a profiler:
//! `perf record ./target/release/examples/profile_gradient S2|A1 [ITERATIONS] [dense]`
//! (`dense` forces the dense path; the A configurations are [`Problem::sparse`]).
use spikegrad::{Step, SweepPath, Workspace};
use spikegrad_benches::{Problem, CONFIGURATIONS, SPARSE_CONFIGURATIONS};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "S1".into());
    let iterations: usize =
        std::env::args().nth(2).map_or(10, |i| i.parse().expect("ITERATIONS is a number"));
    let all = CONFIGURATIONS.iter().chain(&SPARSE_CONFIGURATIONS);
    let &(_, n, b, t) = all.clone().find(|c| c.0 == name).expect("S1-S3, A1 or A2");
    let sparse = SPARSE_CONFIGURATIONS.iter().any(|c| c.0 == name);
    let problem = if sparse { Problem::sparse(n, b, t, 7) } else { Problem::new(n, b, t, 7) };
    let step = Step::<f32>::new(problem.config()).expect("valid");
    let mut workspace = Workspace::<f32>::new();
    if std::env::args().nth(3).as_deref() == Some("dense") {
        workspace.set_sweep_path(SweepPath::Dense);
    }
    let (net, batch) = (problem.network(), problem.batch());
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        workspace.gradient(&step, &net, &batch, &problem.loss()).expect("finite");
    }
    let per_step = start.elapsed().as_secs_f64() / (iterations * t) as f64;
    println!("{name}: gradient {:.2} us per step", per_step * 1e6);
}
