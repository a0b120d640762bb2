//! Time and peak memory of one long trial's gradient (N 256, B 1, f64; h 1 ms, tau 20,
//! tau_s 100, raised cosine Delta 0.3, I0 ~ N(-0.1, 0.3^2), W ~ N(0, (1/sqrt N)^2), U ~
//! N(0, 0.5^2), a 25-step pulse every 400 steps, random targets: a few percent active
//! pairs, costates finite in f64 over 10^6 steps): checkpointed (the default recording
//! limit) or recorded whole.
//!
//! `cargo run --release -p spikegrad-benches --example long_trial -- [T] [checkpointed|recorded]`
//! (default 1000000 checkpointed). Run each mode in its own process: the peak resident
//! memory printed is the process's (Linux `VmHWM`).

use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
use spikegrad_train::rng::Rng;

fn main() {
    let steps = match std::env::args().nth(1).map(|t| t.parse::<usize>()) {
        None => 1_000_000,
        Some(Ok(steps)) if steps > 0 => steps,
        Some(_) => {
            eprintln!("error: T must be a positive whole number of steps");
            std::process::exit(2);
        }
    };
    let recorded = match std::env::args().nth(2).as_deref() {
        None | Some("checkpointed") => false,
        Some("recorded") => true,
        Some(other) => {
            eprintln!("error: mode {other}: use checkpointed or recorded");
            std::process::exit(2);
        }
    };
    let (n, channels) = (256, 2);
    let mut rng = Rng::new(7);
    let mut normals = |len: usize, sd: f64, mean: f64| -> Vec<f64> {
        (0..len).map(|_| rng.normal(mean, sd)).collect()
    };
    let root = (n as f64).sqrt();
    let (w, u) = (normals(n * n, 1.0 / root, 0.0), normals(n * channels, 0.5, 0.0));
    let (i0, o) = (normals(n, 0.3, -0.1), normals(channels * n, 10.0 / root, 0.0));
    let target = normals(steps * channels, 1.0, 0.0);
    // Resting neurons at their rest phase, the others spread over the circle.
    let v0: Vec<f64> = i0
        .iter()
        .enumerate()
        .map(|(j, &i)| {
            if i < 0.0 {
                -((1.0 + i) / (1.0 - i)).acos() / std::f64::consts::PI
            } else {
                2.0 * j as f64 / n as f64 - 1.0
            }
        })
        .collect();
    let x: Vec<f64> =
        (0..steps * channels).map(|i| if (i / channels) % 400 < 25 { 1.0 } else { 0.0 }).collect();
    let mask = vec![1.0; steps * channels];
    let config = Config::new(1.0, 20.0, 100.0, Gate::RaisedCosine { delta: 0.3 });
    let step = Step::<f64>::new(&config).expect("valid configuration");
    let net = Network::new(Parameters {
        n,
        n_in: channels,
        n_out: channels,
        w: &w,
        u: &u,
        i0: &i0,
        o: &o,
    });
    let s0 = vec![0.0; n];
    let batch = Batch::new(Inputs { b: 1, t: steps, v0: &v0, s0: &s0, x: &x });
    let mut workspace = Workspace::<f64>::new();
    if recorded {
        workspace.set_recording_limit(None);
    }
    let start = std::time::Instant::now();
    let gradient = match workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask)) {
        Ok(gradient) => gradient,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let mode = if recorded { "recorded" } else { "checkpointed" };
    println!(
        "long trial: N 256, B 1, T {steps}, f64, {mode}: gradient {seconds:.2} s, loss {:.6e}, \
         peak resident memory {} MB",
        gradient.loss,
        peak_resident_kb() / 1024
    );
}

/// The process's peak resident set size in KiB (`VmHWM` of /proc/self/status), 0 where
/// there is none.
fn peak_resident_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}
