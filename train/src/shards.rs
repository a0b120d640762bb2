//! Data-parallel gradients: a batch split into a fixed number of shards of whole trials,
//! each run on its own thread with its own workspace.
//!
//! Trials are independent given the parameters, and MODEL.md's loss is the batch mean
//! L = (1/B) sum_b L_b, so with shards of b_i trials, L = sum_i (b_i / B) L_i and the
//! same weights combine the gradients. At the tasks' sizes (N 64, B 32-64) the per-step
//! products are far below the size where the kernels use a second core
//! (`spikegrad::gemm::PARALLEL_MIN_FLOPS`), so whole sweeps on half the batch each are
//! how a training step uses both cores.
//!
//! The split depends only on B and the shard count, never on the machine's cores, so a
//! seed gives the same bits on any machine with the same shard count.

use crate::model::Trials;
use spikegrad::{Error, Gradient, Network, Step, Workspace};

/// The gradient of the whole batch, combined from its shards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Combined {
    /// L over the whole batch.
    pub loss: f64,
    /// dL/dW, (N, N).
    pub w: Vec<f32>,
    /// dL/dU, (N, n_in).
    pub u: Vec<f32>,
    /// dL/dI0, (N).
    pub i0: Vec<f32>,
    /// dL/dO, (n_out, N).
    pub o: Vec<f32>,
}

struct Shard {
    workspace: Workspace<f32>,
    trials: Trials,
}

/// A batch split into shards, with a workspace per shard.
pub struct Shards {
    count: usize,
    shards: Vec<Shard>,
    combined: Combined,
}

/// The trials [lo, hi) of `all`, copied into `part` (resized as needed).
fn copy_trials(all: &Trials, lo: usize, hi: usize, part: &mut Trials) {
    let (b, t, width) = (hi - lo, all.t, all.v0.len() / all.b);
    let (n_in, n_out) = (all.x.len() / (all.t * all.b), all.target.len() / (all.t * all.b));
    part.b = b;
    part.t = t;
    part.v0.clear();
    part.v0.extend_from_slice(&all.v0[lo * width..hi * width]);
    part.s0.clear();
    part.s0.extend_from_slice(&all.s0[lo * width..hi * width]);
    let columns = |from: &[f32], into: &mut Vec<f32>, per: usize| {
        into.clear();
        for step in 0..t {
            into.extend_from_slice(&from[(step * all.b + lo) * per..(step * all.b + hi) * per]);
        }
    };
    columns(&all.x, &mut part.x, n_in);
    columns(&all.target, &mut part.target, n_out);
    columns(&all.mask, &mut part.mask, n_out);
}

/// One shard's gradient, with its trial count.
fn run_shard<'a>(
    shard: &'a mut Shard,
    step: &Step<f32>,
    net: &Network<'_, f32>,
) -> Result<(f64, &'a Gradient<f32>), Error> {
    let b = shard.trials.b as f64;
    shard.workspace.gradient(step, net, &shard.trials.batch()).map(|g| (b, g))
}

/// Adds `weight * from` into `into`.
fn accumulate(into: &mut [f32], from: &[f32], weight: f32) {
    for (a, &g) in into.iter_mut().zip(from) {
        *a += weight * g;
    }
}

impl Shards {
    /// `count` shards (at least 1); a batch of B < `count` trials uses B.
    pub fn new(count: usize) -> Self {
        Shards { count: count.max(1), shards: Vec::new(), combined: Combined::default() }
    }

    /// The number of shards a batch is split into (at most).
    pub fn count(&self) -> usize {
        self.count
    }

    /// dL/d(W, U, I0, O) and L over `trials` (MODEL.md section 3), computed shard by
    /// shard on scoped threads and combined with weights b_i / B. The first error of any
    /// shard, in shard order, is returned.
    pub fn gradient(
        &mut self,
        step: &Step<f32>,
        net: &Network<'_, f32>,
        trials: &Trials,
    ) -> Result<&Combined, Error> {
        let parts = self.count.min(trials.b).max(1);
        while self.shards.len() < parts {
            self.shards
                .push(Shard { workspace: Workspace::with_threads(1), trials: Trials::default() });
        }
        // Shard i holds trials [i B / parts, (i + 1) B / parts).
        let bounds = |i: usize| i * trials.b / parts;
        let shards = &mut self.shards[..parts];
        for (i, shard) in shards.iter_mut().enumerate() {
            copy_trials(trials, bounds(i), bounds(i + 1), &mut shard.trials);
        }
        let run = |shard| run_shard(shard, step, net);
        let gradients = std::thread::scope(|scope| {
            let (first, rest) = shards.split_first_mut().expect("at least one shard");
            let handles: Vec<_> = rest.iter_mut().map(|s| scope.spawn(|| run(s))).collect();
            let mut results = vec![run(first)];
            results.extend(handles.into_iter().map(|h| h.join().expect("shard thread panicked")));
            results.into_iter().collect::<Result<Vec<_>, Error>>()
        })?;

        let c = &mut self.combined;
        c.loss = 0.0;
        let (n, n_in, n_out) = (net.n, net.n_in, net.n_out);
        for (buffer, len) in
            [(&mut c.w, n * n), (&mut c.u, n * n_in), (&mut c.i0, n), (&mut c.o, n_out * n)]
        {
            buffer.clear();
            buffer.resize(len, 0.0);
        }
        for (b, g) in gradients {
            let weight = b / trials.b as f64;
            c.loss += weight * g.loss;
            let weight = weight as f32;
            accumulate(&mut c.w, &g.w, weight);
            accumulate(&mut c.u, &g.u, weight);
            accumulate(&mut c.i0, &g.i0, weight);
            accumulate(&mut c.o, &g.o, weight);
        }
        Ok(&self.combined)
    }
}
