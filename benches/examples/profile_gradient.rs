//! Runs one benchmark configuration's gradient in a loop, for a profiler:
//! `perf record ./target/release/examples/profile_gradient S2 [ITERATIONS]`.
use spikegrad::{Step, Workspace};
use spikegrad_benches::{Problem, CONFIGURATIONS};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "S1".into());
    let iterations: usize =
        std::env::args().nth(2).map_or(10, |i| i.parse().expect("ITERATIONS is a number"));
    let &(_, n, b, t) = CONFIGURATIONS.iter().find(|c| c.0 == name).expect("S1, S2 or S3");
    let problem = Problem::new(n, b, t, 7);
    let step = Step::<f32>::new(problem.config()).expect("valid");
    let mut workspace = Workspace::<f32>::new();
    let (net, batch) = (problem.network(), problem.batch());
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        workspace.gradient(&step, &net, &batch, &problem.loss()).expect("finite");
    }
    let per_step = start.elapsed().as_secs_f64() / (iterations * t) as f64;
    println!("{name}: gradient {:.2} us per step", per_step * 1e6);
}
