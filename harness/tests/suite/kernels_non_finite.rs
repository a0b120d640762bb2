//! A value that becomes NaN or infinite mid-run stops the kernels' forward and gradient
//! with an error naming the step and neuron (or index), in both precisions, as the
//! reference does (`invalid_input.rs` holds the reference's side).

use spikegrad::{
    Batch, Config, Error, Gate, Inputs, Loss, Network, Parameters, Real, Step, Workspace,
};

struct OneNeuron<T> {
    w: Vec<T>,
    o: Vec<T>,
    s0: Vec<T>,
}

fn run<T: Real>(case: &OneNeuron<T>, t: usize) -> (Result<f64, Error>, Result<f64, Error>) {
    let z = |n: usize| vec![T::from_f64(0.0); n];
    let one = |n: usize| vec![T::from_f64(1.0); n];
    let (u, i0, v0, x, target, mask) = (z(1), z(1), vec![T::from_f64(-0.5)], z(t), z(t), one(t));
    let net = Network::new(Parameters {
        n: 1,
        n_in: 1,
        n_out: 1,
        w: &case.w,
        u: &u,
        i0: &i0,
        o: &case.o,
    });
    let batch = Batch::new(Inputs { b: 1, t, v0: &v0, s0: &case.s0, x: &x });
    let loss = Loss::mse(&target, &mask);
    let config = Config::new(0.5, 20.0, 1000.0, Gate::RaisedCosine { delta: 1.0 });
    let step = Step::<T>::new(&config).unwrap();
    let mut workspace = Workspace::new();
    let forward = workspace.loss(&step, &net, &batch, &loss);
    let gradient = workspace.gradient(&step, &net, &batch, &loss).map(|g| g.loss);
    (forward, gradient)
}

/// `readout_overflowing_loss` with s0 = 4 overflows the loss; `readout_overflowing_costate`
/// with s0 = 1e-3 leaves the loss finite but not d_T.
fn check<T: Real>(max: f64, readout_overflowing_loss: f64, readout_overflowing_costate: f64) {
    let c = |x: f64| vec![T::from_f64(x)];
    // W s_0 overflows: I_0 = inf, so v_1 is not finite.
    let (f, g) = run::<T>(&OneNeuron { w: c(max), o: c(0.0), s0: c(4.0) }, 5);
    for e in [f.unwrap_err(), g.unwrap_err()] {
        assert_eq!(
            e,
            Error::NonFiniteState { quantity: "v", step: 1, trial: 0, neuron: 0 },
            "{}",
            T::NAME
        );
    }
    // The readout squares past the loss's range (accumulated in f64).
    let (f, _) = run::<T>(&OneNeuron { w: c(0.0), o: c(readout_overflowing_loss), s0: c(4.0) }, 5);
    assert!(
        matches!(f.unwrap_err(), Error::NonFiniteLoss { step: 1, trial: 0, channel: 0 }),
        "{}",
        T::NAME
    );
    // The loss is finite but d_T = O^T r_T is not: the costate at step T.
    let (f, g) =
        run::<T>(&OneNeuron { w: c(0.0), o: c(readout_overflowing_costate), s0: c(1e-3) }, 5);
    assert!(f.unwrap().is_finite());
    let e = g.unwrap_err();
    assert_eq!(
        e,
        Error::NonFiniteGradient { quantity: "lam_s", step: Some(5), index: 0 },
        "{}",
        T::NAME
    );
    assert!(e.to_string().contains("step 5"));
}

#[test]
fn f64_kernels_stop_at_the_step_that_overflows() {
    check::<f64>(f64::MAX, 1e200, 1e156);
}

#[test]
fn f32_kernels_stop_at_the_step_that_overflows() {
    // The loss is accumulated in f64, so in f32 it is the readout itself that overflows
    // (O s = 3.4e38 * 4); and o = 1e25 * 1e-3 is finite, but O^T r = 1e25 * 5e21 is not.
    check::<f32>(f32::MAX as f64, f32::MAX as f64, 1e25);
}
