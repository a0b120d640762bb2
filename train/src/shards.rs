//! Data-parallel gradients: a batch split into a fixed number of shards of whole trials,
//! each run on its own thread with its own workspace, in the precision asked for.
//!
//! Trials are independent given the parameters, and docs/model.md's losses are batch means
//! L = (1/B) sum_b L_b, so with shards of b_i trials, L = sum_i (b_i / B) L_i and the
//! same weights combine the gradients. (The linear loss sums over trials: its G is scaled
//! by B / b_i in each shard, so the same weights hold.) At the tasks' sizes (N 64, B 32-64) the per-step
//! products are far below the size where the kernels use a second core
//! (about 2 MFLOP per product), so whole sweeps on a part of the batch each
//! are how a training step uses both cores.
//!
//! The model and trials are f32; a shard copies its trials (and the parameters) into its
//! own precision `T`. In f64 the costates of tonically firing networks, which grow
//! through recurrent coupling, stay finite far longer than in f32 (they overflow f32 on
//! most steps of the predictive-coding task); clipping only needs their direction.
//!
//! The split depends only on B and the shard count, never on the machine's cores, so a
//! seed gives the same bits on any machine with the same shard count.

use crate::model::{Model, Objective, Trials};
use crate::phase_step::{ModelStep, PhaseStep};
use spikegrad::{Error, Gradient, GradientOptions, Network, Parameters, Real, Workspace};

/// The gradient of the whole batch, combined from its shards in f64.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Combined {
    /// L over the whole batch.
    pub loss: f64,
    /// dL/dW, (N, N).
    pub w: Vec<f64>,
    /// dL/dU, (N, n_in).
    pub u: Vec<f64>,
    /// dL/dI0, (N).
    pub i0: Vec<f64>,
    /// dL/dO, (n_out, N).
    pub o: Vec<f64>,
    /// dL/dtau_j, (N), when the model has per-neuron time constants; empty otherwise.
    pub tau: Vec<f64>,
    /// dL/dtau_s,j, (N), likewise.
    pub tau_s: Vec<f64>,
}

/// The trials [lo, hi) of `all`, converted to `T`, into `part` (resized).
fn copy_trials<T: Real>(all: &Trials, lo: usize, hi: usize, part: &mut Trials<T>) {
    let (t, width) = (all.t, all.v0.len() / all.b);
    part.b = hi - lo;
    part.t = t;
    convert(&all.v0[lo * width..hi * width], &mut part.v0);
    convert(&all.s0[lo * width..hi * width], &mut part.s0);
    // Each (T, B, width) array (an empty one stays empty): its columns lo..hi of every step.
    let columns = |from: &[f32], into: &mut Vec<T>| {
        let per = from.len() / (t * all.b);
        into.clear();
        for step in 0..t {
            let range = (step * all.b + lo) * per..(step * all.b + hi) * per;
            into.extend(from[range].iter().map(|&x| T::from_f64(x as f64)));
        }
    };
    columns(&all.x, &mut part.x);
    columns(&all.target, &mut part.target);
    if all.objective == Objective::Linear {
        // The linear loss is a sum over trials, not a mean: with G scaled by B / b_i, the
        // shard's loss weighted by b_i / B is its share of the sum (and its rate penalty,
        // a mean, its share of the mean).
        let scale = T::from_f64(all.b as f64 / part.b as f64);
        part.target.iter_mut().for_each(|g| *g *= scale);
    }
    columns(&all.mask, &mut part.mask);
    columns(&all.i_ext, &mut part.i_ext);
    part.labels.clear();
    if !all.labels.is_empty() {
        part.labels.extend_from_slice(&all.labels[lo..hi]);
    }
    part.objective = all.objective;
    part.rate_penalty = all.rate_penalty;
}

/// `from`, converted to `T`, into `into` (resized).
fn convert<T: Real>(from: &[f32], into: &mut Vec<T>) {
    into.clear();
    into.extend(from.iter().map(|&x| T::from_f64(x as f64)));
}

struct Shard<T> {
    workspace: Workspace<T>,
    trials: Trials<T>,
}

/// A batch split into shards, each with a workspace, computing in precision `T`.
pub struct Shards<T: Real> {
    step: ModelStep<T>,
    count: usize,
    shards: Vec<Shard<T>>,
    /// W, U, I0, O converted to `T`.
    parameters: [Vec<T>; 4],
    /// Per-neuron tau and tau_s converted to `T` (empty when the model has none).
    constants: [Vec<T>; 2],
    /// The connectivity mask converted to `T` (empty when the model has none).
    mask: Vec<T>,
    combined: Combined,
}

/// One shard's gradient, with its trial count.
fn run_shard<'a, T: Real>(
    shard: &'a mut Shard<T>,
    step: &ModelStep<T>,
    net: &Network<'_, T>,
    options: GradientOptions,
) -> Result<(usize, &'a Gradient<T>), Error> {
    let b = shard.trials.b;
    let (batch, loss) = (shard.trials.batch(), shard.trials.loss());
    step.gradient(&mut shard.workspace, net, &batch, &loss, options).map(|g| (b, g))
}

/// Adds `weight * from` into `into`.
fn accumulate<T: Real>(into: &mut [f64], from: &[T], weight: f64) {
    for (a, &g) in into.iter_mut().zip(from) {
        *a += weight * g.to_f64();
    }
}

impl<T: Real> Shards<T> {
    /// `count` shards (at least 1; a batch of B < `count` trials uses B) for networks of
    /// this configuration stepped by `map`; an error if the configuration is invalid or its
    /// constants are not normal numbers in `T` ([`spikegrad::Step::new`]).
    pub fn new(config: &spikegrad::Config, map: PhaseStep, count: usize) -> Result<Self, Error> {
        Ok(Shards {
            step: ModelStep::new(config, map)?,
            count: count.max(1),
            shards: Vec::new(),
            parameters: Default::default(),
            constants: Default::default(),
            mask: Vec::new(),
            combined: Combined::default(),
        })
    }

    /// dL/d(W, U, I0, O) and L of `model` over `trials` (docs/model.md section 3), computed
    /// shard by shard on scoped threads in precision `T` and combined in f64 with
    /// weights b_i / B. Trials that do not fit the model are refused before any split,
    /// with the kernels' error ([`spikegrad::Loss::check`]); otherwise the first error of any
    /// shard, in shard order, is returned.
    pub fn gradient(&mut self, model: &Model, trials: &Trials) -> Result<&Combined, Error> {
        trials.loss().check(&model.network(), &trials.batch())?;
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
        let [w, u, i0, o] = &mut self.parameters;
        for (from, into) in [(&model.w, &mut *w), (&model.u, u), (&model.i0, i0), (&model.o, o)] {
            convert(from, into);
        }
        let (n, n_in, n_out) = (model.n, model.n_in, model.n_out);
        let mut net = Network::new(Parameters { n, n_in, n_out, w, u, i0, o });
        if let Some(mask) = &model.w_mask {
            convert(mask, &mut self.mask);
            net = net.with_mask(&self.mask);
        }
        // Per-neuron constants are the trained ones: their gradients come along.
        let per_neuron = model.tau.is_some() || model.tau_s.is_some();
        let [tau, tau_s] = &mut self.constants;
        if let Some(values) = &model.tau {
            convert(values, tau);
            net = net.with_tau(tau);
        }
        if let Some(values) = &model.tau_s {
            convert(values, tau_s);
            net = net.with_tau_s(tau_s);
        }
        let options = GradientOptions::default().with_constants(per_neuron);
        let step = &self.step;
        let run = |shard| run_shard(shard, step, &net, options);
        let gradients = std::thread::scope(|scope| {
            let (first, rest) = shards.split_first_mut().expect("at least one shard");
            let handles: Vec<_> = rest.iter_mut().map(|s| scope.spawn(|| run(s))).collect();
            let mut results = vec![run(first)];
            results.extend(handles.into_iter().map(|h| h.join().expect("shard thread panicked")));
            results.into_iter().collect::<Result<Vec<_>, Error>>()
        })?;

        let c = &mut self.combined;
        c.loss = 0.0;
        let constants = if per_neuron { n } else { 0 };
        for (buffer, len) in [
            (&mut c.w, n * n),
            (&mut c.u, n * n_in),
            (&mut c.i0, n),
            (&mut c.o, n_out * n),
            (&mut c.tau, constants),
            (&mut c.tau_s, constants),
        ] {
            buffer.clear();
            buffer.resize(len, 0.0);
        }
        for (b, g) in gradients {
            let weight = b as f64 / trials.b as f64;
            c.loss += weight * g.loss;
            accumulate(&mut c.w, &g.w, weight);
            accumulate(&mut c.u, &g.u, weight);
            accumulate(&mut c.i0, &g.i0, weight);
            accumulate(&mut c.o, &g.o, weight);
            accumulate(&mut c.tau, &g.tau, weight);
            accumulate(&mut c.tau_s, &g.tau_s, weight);
        }
        Ok(&self.combined)
    }
}
