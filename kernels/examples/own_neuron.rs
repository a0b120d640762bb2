//! Bring your own neuron: a phase model defined here, outside the crate, checked by
//! `spikegrad::check_neuron` before it is trusted, then trained for a few steps.
//!
//! The model is a theta neuron whose input enters through a gain, a quadratic
//! integrate-and-fire neuron with a stronger synaptic drive:
//!
//! ```text
//! f(v, I)  = (1 - cos pi v) + gain (1 + cos pi v) I
//! df/dv    = pi sin(pi v) (1 - gain I)
//! df/dI    = gain (1 + cos pi v)
//! f(1, I)  = 2 for every I
//! ```
//!
//! The run shows the checker's report for it and for a copy whose df/dv forgets its
//! gain, a mistake that a network would silently train with.
//!
//! `cargo run --release -p spikegrad --example own_neuron`

use spikegrad::neuron::{sin_cos_pi, Neuron, Real, Simd};
use spikegrad::{
    check_neuron, Batch, Config, Gate, GradientOptions, Inputs, Loss, Network, NeuronCheck,
    Parameters, Step, Workspace,
};

/// The driven theta neuron; `forget_gain` writes df/dv as the plain theta neuron's.
#[derive(Debug, Clone, Copy)]
struct DrivenTheta<const FORGET_GAIN: bool>;

const GAIN: f64 = 2.0;

impl<const FORGET_GAIN: bool> Neuron for DrivenTheta<FORGET_GAIN> {
    const NAME: &'static str =
        if FORGET_GAIN { "driven theta (wrong df/dv)" } else { "driven theta" };

    #[inline(always)]
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
        let (sin, cos) = sin_cos_pi::<S, T>(simd, v);
        let one = T::splat(simd, T::from_f64(1.0));
        let gain = T::splat(simd, T::from_f64(GAIN));
        let df_di = T::vmul(simd, gain, T::vadd(simd, one, cos));
        let f = T::vfma(simd, df_di, i, T::vsub(simd, one, cos));
        let drive = if FORGET_GAIN { i } else { T::vmul(simd, gain, i) };
        let pi_sin = T::vmul(simd, T::splat(simd, T::from_f64(core::f64::consts::PI)), sin);
        let df_dv = T::vmul(simd, pi_sin, T::vsub(simd, one, drive));
        (f, df_dv, df_di)
    }

    fn spike_speed(self) -> f64 {
        2.0
    }
}

/// A few steps of gradient descent on a small network of the model: the loss falls.
fn train<N: Neuron>(neuron: N) -> Result<(f64, f64), spikegrad::Error> {
    let config = Config::new(0.5, 20.0, 30.0, Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<f64, N>::with_neuron(&config, neuron)?;
    let (n, n_in, n_out, b, t) = (6, 1, 1, 2, 200);
    let wave = |len: usize, salt: f64, scale: f64| -> Vec<f64> {
        (0..len).map(|k| ((k as f64 * 0.618034 + salt).fract() * 2.0 - 1.0) * scale).collect()
    };
    let (mut w, mut u, mut i0, mut o) =
        (wave(n * n, 0.1, 10.0), wave(n * n_in, 0.2, 1.0), wave(n, 0.3, 0.3), wave(n, 0.4, 20.0));
    let (v0, s0) = (wave(b * n, 0.5, 0.9), vec![0.0; b * n]);
    let x: Vec<f64> = (0..t * b).map(|k| if (k / b) % 50 < 10 { 1.0 } else { 0.0 }).collect();
    let target: Vec<f64> = (0..t * b).map(|k| ((k / b) as f64 * 0.05).sin() * 0.3).collect();
    let mask = vec![1.0; t * b];
    let mut tau = vec![20.0; n];
    let mut workspace = Workspace::new();
    let options = GradientOptions::default().with_constants(true);
    let (mut first, mut last) = (0.0, 0.0);
    for iteration in 0..60 {
        let net = Network::new(Parameters { n, n_in, n_out, w: &w, u: &u, i0: &i0, o: &o })
            .with_tau(&tau);
        let batch = Batch::new(Inputs { b, t, v0: &v0, s0: &s0, x: &x });
        let loss = Loss::mse(&target, &mask);
        let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?;
        if iteration == 0 {
            first = g.loss;
        }
        last = g.loss;
        // Plain gradient descent with a step normalised per array.
        let descend = |p: &mut [f64], g: &[f64], rate: f64| {
            let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= rate * g / norm);
        };
        descend(&mut w, &g.w, 0.5);
        descend(&mut u, &g.u, 0.05);
        descend(&mut i0, &g.i0, 0.02);
        descend(&mut o, &g.o, 1.0);
        descend(&mut tau, &g.tau, 0.2);
        // Keep each tau_j valid: (h/tau_j) 2 <= Delta/2.
        tau.iter_mut().for_each(|t| *t = t.max(2.0));
    }
    Ok((first, last))
}

fn main() -> Result<(), spikegrad::Error> {
    let settings = NeuronCheck::default();
    let good = check_neuron(DrivenTheta::<false>, &settings)?;
    print!("{good}");
    let wrong = check_neuron(DrivenTheta::<true>, &settings)?;
    print!("{wrong}");
    assert!(good.passed() && !wrong.passed());
    let (first, last) = train(DrivenTheta::<false>)?;
    println!("training the driven theta network (W, U, I0, O, tau per neuron): loss {first:.4} -> {last:.4}");
    assert!(last < first);
    Ok(())
}
