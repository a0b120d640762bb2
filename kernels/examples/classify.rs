//! A downstream user's program, on the public API only: a network of 32 theta neurons
//! learns to tell three input patterns apart, trained by exact gradients of the
//! cross-entropy of its readout over the last 40 ms of each 120 ms trial, with a small
//! rate penalty, a connectivity mask (no self-connections) and a plain Adam written here.
//!
//! ```text
//! cargo run --release -p spikegrad --example classify
//! ```
//!
//! The three classes: a pulse on input channel 0, on channel 1, or on both, during
//! [10, 50) ms, each with noise; the class must be held in the network for 30 ms after
//! the pulse ends, then read out.

use spikegrad::{
    Batch, Config, Error, Gate, Inputs, Loss, Network, Parameters, Record, Step, Workspace,
};

const N: usize = 32;
const N_IN: usize = 2;
const CLASSES: usize = 3;
const T: usize = 120;
const B: usize = 48;
const WINDOW: (usize, usize) = (80, 120);

/// xorshift64*, enough for an example's noise.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// B trials: inputs (T, B, N_IN) and one label per trial.
fn trials(rng: &mut Rng) -> (Vec<f32>, Vec<usize>) {
    let mut x = vec![0.0f32; T * B * N_IN];
    let labels: Vec<usize> = (0..B).map(|b| b % CLASSES).collect();
    for (b, &label) in labels.iter().enumerate() {
        for t in 0..T {
            for k in 0..N_IN {
                let on = (10..50).contains(&t) && (label == k || label == 2);
                let noise = 0.1 * rng.normal();
                x[(t * B + b) * N_IN + k] = (if on { 1.0 } else { 0.0 } + noise) as f32;
            }
        }
    }
    (x, labels)
}

/// Adam on one parameter array.
struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    fn step(&mut self, p: &mut [f32], g: &[f32], t: i32, rate: f64) {
        let (b1, b2) = (0.9, 0.999);
        for i in 0..p.len() {
            let g = g[i] as f64;
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g;
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g;
            let (m, v) = (self.m[i] / (1.0 - b1.powi(t)), self.v[i] / (1.0 - b2.powi(t)));
            p[i] -= (rate * m / (v.sqrt() + 1e-8)) as f32;
        }
    }
}

fn accuracy(readout: &[f32], labels: &[usize]) -> f64 {
    let mut correct = 0;
    for (b, &label) in labels.iter().enumerate() {
        let mut z = [0.0f64; CLASSES];
        for t in WINDOW.0..WINDOW.1 {
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += readout[(t * B + b) * CLASSES + k] as f64;
            }
        }
        let best = (0..CLASSES).max_by(|&i, &j| z[i].total_cmp(&z[j])).unwrap();
        correct += (best == label) as usize;
    }
    correct as f64 / labels.len() as f64
}

/// The network of parameters W, U, I0, O, with connectivity `mask`.
fn network<'a>([w, u, i0, o]: [&'a [f32]; 4], mask: &'a [f32]) -> Network<'a, f32> {
    Network::new(Parameters { n: N, n_in: N_IN, n_out: CLASSES, w, u, i0, o }).with_mask(mask)
}

fn main() -> Result<(), Error> {
    let config = Config::new(1.0, 10.0, 20.0, Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<f32>::new(&config)?;
    let mut rng = Rng(0x5eed);
    let root = (N as f64).sqrt();
    let mut draw = |len: usize, sd: f64| -> Vec<f32> {
        (0..len).map(|_| (sd * rng.normal()) as f32).collect()
    };
    // A quiet start: neurons rest (I0 < 0) and fire when driven.
    let mut w = draw(N * N, 5.0 / root);
    let mut u = draw(N * N_IN, 1.5);
    let mut i0: Vec<f32> = draw(N, 0.3).iter().map(|x| x - 0.2).collect();
    let mut o = draw(CLASSES * N, 20.0 / root);
    let mask: Vec<f32> = (0..N * N).map(|k| if k / N == k % N { 0.0 } else { 1.0 }).collect();
    let (v0, s0) = (vec![-0.3f32; B * N], vec![0.0f32; B * N]);
    let mut adam: Vec<Adam> = [N * N, N * N_IN, N, CLASSES * N]
        .iter()
        .map(|&len| Adam { m: vec![0.0; len], v: vec![0.0; len] })
        .collect();

    let mut workspace = Workspace::new();
    let mut rng = Rng(0xda7a);
    let (test_x, test_labels) = trials(&mut rng);
    for iteration in 1..=300 {
        let (x, labels) = trials(&mut rng);
        let batch = Batch::new(Inputs { b: B, t: T, v0: &v0, s0: &s0, x: &x });
        let loss = Loss::cross_entropy(&labels, WINDOW.0, WINDOW.1).with_rate_penalty(0.1);
        workspace.gradient(&step, &network([&w, &u, &i0, &o], &mask), &batch, &loss)?;
        // Owned, so that the parameters can change while it is read.
        let g = workspace.take_gradient();
        for ((p, g), adam) in [&mut w, &mut u, &mut i0, &mut o]
            .into_iter()
            .zip([&g.w, &g.u, &g.i0, &g.o])
            .zip(&mut adam)
        {
            adam.step(p, g, iteration, 1e-2);
        }
        if iteration % 50 == 0 {
            let batch = Batch::new(Inputs { b: B, t: T, v0: &v0, s0: &s0, x: &test_x });
            workspace.forward(
                &step,
                &network([&w, &u, &i0, &o], &mask),
                &batch,
                Record::Readout,
            )?;
            let held_out = accuracy(workspace.readout().expect("ran"), &test_labels);
            println!(
                "iteration {iteration}: loss {:.4}, held-out accuracy {:.1}%",
                g.loss,
                100.0 * held_out
            );
        }
    }
    Ok(())
}
