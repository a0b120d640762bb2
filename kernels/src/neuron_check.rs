//! "Bring your own neuron", made safe: [`check_neuron`] holds a [`Neuron`] to what the
//! sweeps assume of it (docs/model.md section 5) and reports the worst error of each kind.
//!
//! - df/dv and df/dI against central finite differences of f (Richardson-extrapolated,
//!   so the truncation error is O(eps^4)) on a grid over the circle and a range of
//!   currents;
//! - `f` against the first output of `f_and_derivatives` (a model may override `f`);
//! - periodicity at the spike point, f(1, I) = f(-1, I); f(1, I) > 0; f(1, I) no larger
//!   than the declared [`spike_speed`](Neuron::spike_speed), which the jump rule trusts;
//! - the step map (docs/model.md section 9) at two step ratios r = h/tau: its partials
//!   dDelta_v/dv, dDelta_v/dI and r dDelta_v/dr against central finite differences of
//!   `increment`, and `increment` against the increment of `increment_and_partials`;
//! - the exact gradient of small random networks of the model (W, U, I0, O, v0, s0,
//!   per-neuron tau and tau_s, Delta) against central differences of their loss: a
//!   model whose derivatives agree with f but that the sweeps mishandle (a phase that
//!   runs backward through the gate, a current that strides across it) shows here.

use crate::config::Config;
use crate::error::Error;
use crate::gate::Gate;
use crate::loss::Loss;
use crate::network::{Batch, Inputs, Network, Parameters};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::step::Step;
use crate::workspace::{GradientOptions, Workspace};
use core::fmt;
use pulp::{Simd, WithSimd};
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// What [`check_neuron`] checks and how strictly. Built with `NeuronCheck::default()`
/// and adjusted with its `with_*` methods.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NeuronCheck {
    /// Phases of the grid, evenly spaced over the circle [-1, 1) (default 96).
    pub phases: usize,
    /// Currents of the grid, evenly spaced over `currents_range` (default 25).
    pub currents: usize,
    /// The range of currents of the grid (default [-3, 3]).
    pub currents_range: (f64, f64),
    /// Largest relative error accepted for df/dv, df/dI and f (default 1e-6).
    pub derivative_tolerance: f64,
    /// Random networks whose gradient is checked (default 4).
    pub networks: usize,
    /// Largest relative error accepted for a network gradient coordinate (default 1e-4).
    pub gradient_tolerance: f64,
    /// Seed of the random networks (default 1).
    pub seed: u64,
}

impl Default for NeuronCheck {
    fn default() -> Self {
        NeuronCheck {
            phases: 96,
            currents: 25,
            currents_range: (-3.0, 3.0),
            derivative_tolerance: 1e-6,
            networks: 4,
            gradient_tolerance: 1e-4,
            seed: 1,
        }
    }
}

impl NeuronCheck {
    /// The same settings with another range of currents for the grid.
    pub fn with_currents_range(self, low: f64, high: f64) -> Self {
        NeuronCheck { currents_range: (low, high), ..self }
    }

    /// The same settings with `networks` random networks, drawn from `seed`.
    pub fn with_networks(self, networks: usize, seed: u64) -> Self {
        NeuronCheck { networks, seed, ..self }
    }
}

/// The worst error of one kind of check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Discrepancy {
    /// What was checked (`df/dv`, `df/dI`, `f vs f_and_derivatives`, `periodicity`,
    /// `f(1, I) > 0`, `spike speed`, `network gradient`).
    pub check: &'static str,
    /// The largest error seen (relative, except where the check says otherwise);
    /// infinite where a value was not finite or a run failed.
    pub worst: f64,
    /// The tolerance it is held to.
    pub tolerance: f64,
    /// Where the worst error occurred, and the two values compared (empty if none).
    pub at: String,
    /// How many values were compared.
    pub checked: usize,
}

impl Discrepancy {
    fn new(check: &'static str, tolerance: f64) -> Self {
        Discrepancy { check, worst: 0.0, tolerance, at: String::new(), checked: 0 }
    }

    /// Records an error `error` (NaN counts as infinite) at `at`, if it is the worst yet.
    fn record(&mut self, error: f64, at: impl FnOnce() -> String) {
        self.checked += 1;
        let error = if error.is_nan() { f64::INFINITY } else { error };
        if error > self.worst || (self.at.is_empty() && error >= self.worst) {
            self.worst = error;
            self.at = at();
        }
    }

    /// Whether the worst error is within the tolerance (and anything was checked).
    pub fn passed(&self) -> bool {
        self.checked > 0 && self.worst <= self.tolerance
    }
}

/// What [`check_neuron`] found: the worst error of each kind of check.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NeuronReport {
    /// The model's [`Neuron::NAME`].
    pub name: &'static str,
    /// One entry per kind of check.
    pub checks: Vec<Discrepancy>,
}

impl NeuronReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(Discrepancy::passed)
    }

    /// The check named `check`, if it was run.
    pub fn check(&self, check: &str) -> Option<&Discrepancy> {
        self.checks.iter().find(|c| c.check == check)
    }
}

impl fmt::Display for NeuronReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() { "passed" } else { "FAILED" };
        writeln!(f, "neuron {}: {verdict}", self.name)?;
        for c in &self.checks {
            let mark = if c.passed() { "ok  " } else { "FAIL" };
            writeln!(
                f,
                "  {mark} {:<22} worst error {:.2e} (tolerance {:.0e}, {} checked){}{}",
                c.check,
                c.worst,
                c.tolerance,
                c.checked,
                if c.at.is_empty() { "" } else { " at " },
                c.at
            )?;
        }
        Ok(())
    }
}

/// f, df/dv and df/dI of `neuron` over slices, in f64.
struct Evaluate<'a, N> {
    neuron: N,
    v: &'a [f64],
    i: &'a [f64],
    out: &'a mut [[f64; 4]],
}

impl<N: Neuron> WithSimd for Evaluate<'_, N> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        for ((&v, &i), out) in self.v.iter().zip(self.i).zip(self.out.iter_mut()) {
            let (v, i) = (f64::partial_load(simd, &[v]), f64::partial_load(simd, &[i]));
            let (f, df_dv, df_di) = self.neuron.f_and_derivatives::<S, f64>(simd, v, i);
            let f_alone = self.neuron.f::<S, f64>(simd, v, i);
            let mut values = [0.0; 4];
            for (slot, lanes) in values.iter_mut().zip([f, df_dv, df_di, f_alone]) {
                let mut first = [0.0];
                f64::partial_store(simd, &mut first, lanes);
                *slot = first[0];
            }
            *out = values;
        }
    }
}

/// [f, df/dv, df/dI, f alone] at each (v, I), on the fastest backend.
fn evaluate<N: Neuron>(neuron: N, points: &[(f64, f64)]) -> Vec<[f64; 4]> {
    let (v, i): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    let mut out = vec![[0.0; 4]; points.len()];
    crate::Backend::detect().dispatch(Evaluate { neuron, v: &v, i: &i, out: &mut out });
    out
}

/// |a - b| / max(|a|, |b|, floor), NaN for a non-finite value.
fn relative(a: f64, b: f64, floor: f64) -> f64 {
    if !(a.is_finite() && b.is_finite()) {
        return f64::NAN;
    }
    let scale = a.abs().max(b.abs()).max(floor);
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// Checks `neuron` as the module docs say and reports the worst error of each kind;
/// nothing here panics on a faulty model (a NaN or a failed run is an infinite error).
/// `Err` only for settings that cannot be used (an empty grid, a non-finite or empty
/// range of currents, a tolerance that is not > 0).
///
/// ```
/// use spikegrad::{check_neuron, HopfPhase, NeuronCheck};
/// let report = check_neuron(HopfPhase, &NeuronCheck::default())?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), spikegrad::Error>(())
/// ```
pub fn check_neuron<N: Neuron>(neuron: N, settings: &NeuronCheck) -> Result<NeuronReport, Error> {
    let (low, high) = settings.currents_range;
    let invalid = |field: &'static str, value: f64, rule: &str| {
        Err(Error::InvalidConfig { field, value, rule: rule.into() })
    };
    if settings.phases < 2 || settings.currents < 2 {
        let value = settings.phases.min(settings.currents) as f64;
        return invalid("phases/currents", value, "the grid needs at least 2 of each");
    }
    if !(low.is_finite() && high.is_finite() && low < high) {
        return invalid("currents_range", high - low, "must be a finite range, low < high");
    }
    for (field, tolerance) in [
        ("derivative_tolerance", settings.derivative_tolerance),
        ("gradient_tolerance", settings.gradient_tolerance),
    ] {
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return invalid(field, tolerance, "must be finite and > 0");
        }
    }
    let mut checks = check_derivatives(neuron, settings);
    checks.extend(check_step(neuron, settings));
    checks.push(check_networks(neuron, settings));
    Ok(NeuronReport { name: N::NAME, checks })
}

/// The pointwise checks on the grid.
fn check_derivatives<N: Neuron>(neuron: N, settings: &NeuronCheck) -> Vec<Discrepancy> {
    let tolerance = settings.derivative_tolerance;
    let (low, high) = settings.currents_range;
    let currents: Vec<f64> = (0..settings.currents)
        .map(|k| low + (high - low) * k as f64 / (settings.currents - 1) as f64)
        .collect();
    // Phases at cell centres, away from the wrap point, where v +- eps stays in [-1, 1).
    let phases: Vec<f64> = (0..settings.phases)
        .map(|k| -1.0 + 2.0 * (k as f64 + 0.5) / settings.phases as f64)
        .collect();
    let grid: Vec<(f64, f64)> =
        phases.iter().flat_map(|&v| currents.iter().map(move |&i| (v, i))).collect();
    let at_grid = evaluate(neuron, &grid);
    // Richardson-extrapolated central differences (4 D(eps/2) - D(eps)) / 3.
    let eps = 1e-3;
    let steps = [eps, -eps, eps / 2.0, -eps / 2.0];
    let moved = |axis: usize| -> Vec<(f64, f64)> {
        let shift = |(v, i): (f64, f64), d: f64| if axis == 0 { (v + d, i) } else { (v, i + d) };
        grid.iter().flat_map(|&p| steps.map(|d| shift(p, d))).collect()
    };
    let difference = |values: &[[f64; 4]], k: usize| {
        let f = |j: usize| values[4 * k + j][0];
        let (wide, narrow) = ((f(0) - f(1)) / (2.0 * eps), (f(2) - f(3)) / eps);
        (4.0 * narrow - wide) / 3.0
    };
    let mut checks = Vec::new();
    for (axis, name) in [(0, "df/dv"), (1, "df/dI")] {
        let values = evaluate(neuron, &moved(axis));
        let fd: Vec<f64> = (0..grid.len()).map(|k| difference(&values, k)).collect();
        // Relative to the derivative's own size over the grid, so that its zeros (where
        // any rounding is infinitely relative) are judged on the scale of the function.
        let floor = 1e-3 * fd.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mut check = Discrepancy::new(name, tolerance);
        for (k, &(v, i)) in grid.iter().enumerate() {
            let claimed = at_grid[k][1 + axis];
            check.record(relative(claimed, fd[k], floor), || {
                format!("v = {v:.4}, I = {i:.4}: {claimed:.6e} vs {:.6e}", fd[k])
            });
        }
        checks.push(check);
    }
    let mut same_f = Discrepancy::new("f vs f_and_derivatives", tolerance);
    for (k, &(v, i)) in grid.iter().enumerate() {
        let [f, _, _, alone] = at_grid[k];
        same_f.record(relative(alone, f, 1e-300), || {
            format!("v = {v:.4}, I = {i:.4}: {alone:.6e} vs {f:.6e}")
        });
    }
    checks.push(same_f);

    let ends: Vec<(f64, f64)> = currents.iter().flat_map(|&i| [(1.0, i), (-1.0, i)]).collect();
    let at_ends = evaluate(neuron, &ends);
    let speed = neuron.spike_speed();
    let mut periodic = Discrepancy::new("periodicity", tolerance);
    let mut positive = Discrepancy::new("f(1, I) > 0", 0.0);
    let mut bounded = Discrepancy::new("spike speed", tolerance);
    for (k, &i) in currents.iter().enumerate() {
        let (at_one, at_minus_one) = (at_ends[2 * k][0], at_ends[2 * k + 1][0]);
        periodic.record(relative(at_one, at_minus_one, 1e-300), || {
            format!("I = {i:.4}: f(1, I) = {at_one:.6e}, f(-1, I) = {at_minus_one:.6e}")
        });
        // The error is how far f(1, I) falls short of positive (0 when it is positive).
        let shortfall = if at_one > 0.0 { 0.0 } else { f64::INFINITY };
        positive.record(shortfall, || format!("I = {i:.4}: f(1, I) = {at_one:.6e}"));
        // How far f(1, I) exceeds the declared spike speed, relative to it.
        let excess = if speed.is_finite() && speed > 0.0 {
            ((at_one - speed) / speed).max(0.0)
        } else {
            f64::INFINITY
        };
        bounded.record(excess, || {
            format!("I = {i:.4}: f(1, I) = {at_one:.6e}, spike_speed() = {speed:.6e}")
        });
    }
    checks.extend([periodic, positive, bounded]);
    checks
}

/// The step map of `neuron` over slices, in f64: [increment, the increment of
/// `increment_and_partials`, dDelta_v/dv, dDelta_v/dI, r dDelta_v/dr] at (v, I, r).
struct EvaluateStep<'a, N> {
    neuron: N,
    points: &'a [[f64; 3]],
    out: &'a mut [[f64; 5]],
}

impl<N: Neuron> WithSimd for EvaluateStep<'_, N> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        for (&[v, i, r], out) in self.points.iter().zip(self.out.iter_mut()) {
            let load = |x: f64| f64::partial_load(simd, &[x]);
            let (v, i, r) = (load(v), load(i), load(r));
            let alone = self.neuron.increment::<S, f64>(simd, v, i, r);
            let step = self.neuron.increment_and_partials::<S, f64>(simd, v, i, r);
            for (slot, lanes) in
                out.iter_mut().zip([alone, step.delta, step.d_v, step.d_i, step.d_log_r])
            {
                let mut first = [0.0];
                f64::partial_store(simd, &mut first, lanes);
                *slot = first[0];
            }
        }
    }
}

/// [`EvaluateStep`] at each point, on the fastest backend.
fn evaluate_step<N: Neuron>(neuron: N, points: &[[f64; 3]]) -> Vec<[f64; 5]> {
    let mut out = vec![[0.0; 5]; points.len()];
    crate::Backend::detect().dispatch(EvaluateStep { neuron, points, out: &mut out });
    out
}

/// The step map's partials against central differences of its increment (in v, I and
/// ln r, Richardson-extrapolated), and its two increments against each other, on the grid
/// of [`check_derivatives`] at r = 0.02 and r = 0.1.
fn check_step<N: Neuron>(neuron: N, settings: &NeuronCheck) -> Vec<Discrepancy> {
    let tolerance = settings.derivative_tolerance;
    let (low, high) = settings.currents_range;
    let mut grid = Vec::new();
    for r in [0.02, 0.1] {
        for p in 0..settings.phases {
            let v = -1.0 + 2.0 * (p as f64 + 0.5) / settings.phases as f64;
            for c in 0..settings.currents {
                grid.push([v, low + (high - low) * c as f64 / (settings.currents - 1) as f64, r]);
            }
        }
    }
    let at_grid = evaluate_step(neuron, &grid);
    let eps = 1e-3;
    let mut checks = Vec::new();
    for (axis, name) in [(0, "dDelta_v/dv"), (1, "dDelta_v/dI"), (2, "r dDelta_v/dr")] {
        // In ln r for the third axis: r e^d.
        let shift = |mut p: [f64; 3], d: f64| {
            if axis == 2 {
                p[2] *= d.exp();
            } else {
                p[axis] += d;
            }
            p
        };
        let moved: Vec<[f64; 3]> = grid
            .iter()
            .flat_map(|&p| [eps, -eps, eps / 2.0, -eps / 2.0].map(|d| shift(p, d)))
            .collect();
        let values = evaluate_step(neuron, &moved);
        let fd: Vec<f64> = (0..grid.len())
            .map(|k| {
                let f = |j: usize| values[4 * k + j][0];
                let (wide, narrow) = ((f(0) - f(1)) / (2.0 * eps), (f(2) - f(3)) / eps);
                (4.0 * narrow - wide) / 3.0
            })
            .collect();
        let floor = 1e-3 * fd.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let mut check = Discrepancy::new(name, tolerance);
        for (k, &[v, i, r]) in grid.iter().enumerate() {
            let claimed = at_grid[k][2 + axis];
            check.record(relative(claimed, fd[k], floor), || {
                format!("v = {v:.4}, I = {i:.4}, r = {r}: {claimed:.6e} vs {:.6e}", fd[k])
            });
        }
        checks.push(check);
    }
    let mut same = Discrepancy::new("increment vs partials", tolerance);
    for (k, &[v, i, r]) in grid.iter().enumerate() {
        let [alone, delta, ..] = at_grid[k];
        same.record(relative(alone, delta, 1e-300), || {
            format!("v = {v:.4}, I = {i:.4}, r = {r}: {alone:.6e} vs {delta:.6e}")
        });
    }
    checks.push(same);
    checks
}

/// A seeded draw.
struct Draw(Xoshiro256PlusPlus);

impl Draw {
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        low + (high - low) * unit
    }

    fn vec(&mut self, len: usize, low: f64, high: f64) -> Vec<f64> {
        (0..len).map(|_| self.uniform(low, high)).collect()
    }
}

/// One small random network of the model, its loss and its parameters by name.
struct Problem {
    config: Config,
    dims: [usize; 5],
    /// W U I0 O v0 s0 tau tau_s, each a vector (tau, tau_s per neuron).
    arrays: [Vec<f64>; 8],
    target: Vec<f64>,
    mask: Vec<f64>,
}

const NAMES: [&str; 9] = ["W", "U", "I0", "O", "v0", "s0", "tau", "tau_s", "Delta"];

impl Problem {
    fn draw(draw: &mut Draw, speed: f64) -> Problem {
        let (n, n_in, n_out, b, t) = (5, 2, 2, 2, 120);
        let delta = draw.uniform(0.6, 1.4);
        let tau = 20.0;
        // h well inside the jump rule for this model, and the Euler regime h/tau <= 0.05.
        let h = (0.5 * tau * delta / (2.0 * speed)).min(tau / 20.0);
        let tau_s = draw.uniform(10.0, 60.0);
        let config = Config::new(h, tau, tau_s, Gate::RaisedCosine { delta });
        let w_scale = tau_s / (n as f64).sqrt();
        let arrays = [
            draw.vec(n * n, -w_scale, w_scale),
            draw.vec(n * n_in, -1.0, 1.0),
            draw.vec(n, -1.0, 1.0),
            draw.vec(n_out * n, -tau_s, tau_s),
            draw.vec(b * n, -1.0, 1.0),
            draw.vec(b * n, 0.0, 1.0 / tau_s),
            draw.vec(n, tau, 2.0 * tau),
            draw.vec(n, tau_s, 2.0 * tau_s),
        ];
        let target = draw.vec(t * b * n_out, -1.0, 1.0);
        let mask = vec![1.0; t * b * n_out];
        Problem { config, dims: [n, n_in, n_out, b, t], arrays, target, mask }
    }

    /// The loss, and with `gradient` every gradient in the order of [`NAMES`].
    fn run<N: Neuron>(
        &self,
        neuron: N,
        x: &[f64],
        gradient: bool,
    ) -> Result<(f64, Vec<Vec<f64>>), Error> {
        let [n, n_in, n_out, b, t] = self.dims;
        let [w, u, i0, o, v0, s0, tau, tau_s] = &self.arrays;
        let step = Step::<f64, N>::with_neuron(&self.config, neuron)?;
        let net = Network::new(Parameters { n, n_in, n_out, w, u, i0, o })
            .with_tau(tau)
            .with_tau_s(tau_s);
        let batch = Batch::new(Inputs { b, t, v0, s0, x });
        let loss = Loss::mse(&self.target, &self.mask);
        let mut workspace = Workspace::with_threads(1);
        if !gradient {
            return Ok((workspace.loss(&step, &net, &batch, &loss)?, Vec::new()));
        }
        let options = GradientOptions::default().with_constants(true);
        let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?;
        let delta = vec![g.delta.unwrap_or(f64::NAN)];
        let all = [&g.w, &g.u, &g.i0, &g.o, &g.v0, &g.s0, &g.tau, &g.tau_s, &delta];
        Ok((g.loss, all.iter().map(|a| a.to_vec()).collect()))
    }

    /// The coordinate `index` of parameter `p` (of [`NAMES`]), mutably.
    fn coordinate(&mut self, p: usize, index: usize) -> &mut f64 {
        match p {
            8 => match &mut self.config.gate {
                Gate::RaisedCosine { delta } | Gate::Boxcar { delta } => delta,
            },
            _ => &mut self.arrays[p][index],
        }
    }
}

/// The network gradients of a few random networks against central differences.
fn check_networks<N: Neuron>(neuron: N, settings: &NeuronCheck) -> Discrepancy {
    let mut check = Discrepancy::new("network gradient", settings.gradient_tolerance);
    let mut draw = Draw(Xoshiro256PlusPlus::seed_from_u64(settings.seed));
    let speed = neuron.spike_speed();
    if !(speed.is_finite() && speed > 0.0) {
        check.record(f64::INFINITY, || format!("spike_speed() = {speed}: must be finite and > 0"));
        return check;
    }
    for network in 0..settings.networks {
        let mut problem = Problem::draw(&mut draw, speed);
        let [_, n_in, _, b, t] = problem.dims;
        let x = draw.vec(t * b * n_in, -1.0, 1.0);
        let (loss, gradients) = match problem.run(neuron, &x, true) {
            Ok(result) => result,
            Err(e) => {
                check.record(f64::INFINITY, || format!("network {network}: {e}"));
                continue;
            }
        };
        for (p, gradient) in gradients.iter().enumerate() {
            // The coordinate of largest gradient and one drawn at random.
            let largest = (0..gradient.len())
                .max_by(|&a, &b| gradient[a].abs().total_cmp(&gradient[b].abs()));
            let random = (draw.0.next_u64() % gradient.len() as u64) as usize;
            for index in largest.into_iter().chain([random]) {
                let value = *problem.coordinate(p, index);
                let mut loss_at = |moved: f64| {
                    *problem.coordinate(p, index) = moved;
                    let result = problem.run(neuron, &x, false).map(|(l, _)| l);
                    *problem.coordinate(p, index) = value;
                    result
                };
                // A step of 1e-5 of the coordinate's size, Richardson-extrapolated.
                let eps = 1e-5 * value.abs().max(if p == 5 { 1e-3 } else { 1e-1 });
                let mut central = |e: f64| -> Result<f64, Error> {
                    Ok((loss_at(value + e)? - loss_at(value - e)?) / (2.0 * e))
                };
                let fd = match (central(eps), central(eps / 2.0)) {
                    (Ok(wide), Ok(narrow)) => (4.0 * narrow - wide) / 3.0,
                    (Err(e), _) | (_, Err(e)) => {
                        check.record(f64::INFINITY, || format!("network {network}: {e}"));
                        continue;
                    }
                };
                // Rounding of L in the difference quotient: ~1e4 ulps of L over eps.
                let floor = 1e4 * f64::EPSILON * loss.abs().max(1e-300) / eps;
                let claimed = gradient[index];
                // Relative to the larger of the two, or to the scale at which that rounding
                // would reach the tolerance: a difference within the rounding passes, a
                // larger one shows its relative size.
                let error = relative(claimed, fd, floor / settings.gradient_tolerance);
                check.record(error, || {
                    format!(
                        "network {network}, dL/d{}[{index}]: {claimed:.6e} vs {fd:.6e}",
                        NAMES[p]
                    )
                });
            }
        }
    }
    check
}
