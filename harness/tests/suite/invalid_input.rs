//! Invalid configurations, mismatched shapes, non-finite data and runs that blow up all
//! return `Err` naming what is wrong; none panics.

use proptest::prelude::*;
use spikegrad_harness::{case, Case, GateShape, Param, Shapes};
use spikegrad_reference::{gradient, loss, Batch, Config, Error, Gate, Loss, Network, TaskLoss};

/// docs/model.md section 4, restated as one predicate.
fn allowed(h: f64, tau: f64, tau_s: f64, delta: f64) -> bool {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    positive(h)
        && positive(tau)
        && positive(tau_s)
        && h < tau_s
        && delta > 0.0
        && delta < 2.0
        && 2.0 * h / tau <= delta / 2.0
}

fn any_scalar() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 4.0),
        Just(f64::MAX),
        Just(2.0),
        any::<f64>(),
        -1.0..3.0f64,
        0.0..100.0f64,
    ]
}

/// Both entry points give the same error.
fn both_fail(case: &Case) -> Error {
    let from_forward = loss(&case.cfg, &case.net, &case.batch, &case.loss).unwrap_err();
    let from_gradient = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap_err();
    assert_eq!(from_forward.to_string(), from_gradient.to_string());
    from_forward
}

/// Which array of a case an index names, in [`Param`]'s order, then x, target, mask.
fn array_mut(case: &mut Case, which: usize) -> (&'static str, &mut Vec<f64>) {
    let (net, batch): (&mut Network, &mut Batch) = (&mut case.net, &mut case.batch);
    let TaskLoss::Mse { target, mask } = &mut case.loss.task else {
        unreachable!("plain cases have an MSE loss")
    };
    match which {
        0 => ("W", &mut net.w),
        1 => ("U", &mut net.u),
        2 => ("I0", &mut net.i0),
        3 => ("O", &mut net.o),
        4 => ("v0", &mut batch.v0),
        5 => ("s0", &mut batch.s0),
        6 => ("x", &mut batch.x),
        7 => ("target", target),
        _ => ("mask", mask),
    }
}

fn small_case() -> impl Strategy<Value = Case> {
    case(GateShape::RaisedCosine, Shapes { max_n: 6, max_io: 3, max_b: 3, max_t: 20 })
}

proptest! {
    #[test]
    fn validation_accepts_exactly_what_the_rules_allow(
        h in any_scalar(), tau in any_scalar(), tau_s in any_scalar(), delta in any_scalar(), boxcar: bool,
    ) {
        let gate = if boxcar { Gate::Boxcar { delta } } else { Gate::RaisedCosine { delta } };
        let result = Config { h, tau, tau_s, gate }.validate();
        prop_assert_eq!(result.is_ok(), allowed(h, tau, tau_s, delta), "{:?}", result);
        if let Err(e) = result {
            let is_config_error = matches!(e, Error::InvalidConfig { .. });
            prop_assert!(is_config_error, "{}", e);
        }
    }

    #[test]
    fn a_wrong_length_names_the_array(mut case in small_case(), which in 0usize..9, grow: bool) {
        let (name, array) = array_mut(&mut case, which);
        if grow || array.len() == 1 { array.push(0.0) } else { array.pop(); }
        let err = both_fail(&case);
        prop_assert!(matches!(err, Error::ShapeMismatch { array, .. } if array == name), "{}", err);
    }

    #[test]
    fn a_non_finite_value_names_the_array_and_index(
        mut case in small_case(), which in 0usize..9, pick: u64,
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
    ) {
        let (name, array) = array_mut(&mut case, which);
        let at = (pick % array.len() as u64) as usize;
        array[at] = bad;
        let err = both_fail(&case);
        prop_assert!(
            matches!(err, Error::NonFiniteInput { array, index, .. } if array == name && index == at),
            "{}", err
        );
    }

    #[test]
    fn a_mask_outside_unit_interval_is_refused(mut case in small_case(), pick: u64, above: bool) {
        let (_, mask) = array_mut(&mut case, 8);
        let at = (pick % mask.len() as u64) as usize;
        mask[at] = if above { 1.5 } else { -0.25 };
        let err = both_fail(&case);
        prop_assert!(matches!(err, Error::MaskOutOfRange { index, .. } if index == at), "{}", err);
    }

    #[test]
    fn an_empty_dimension_is_refused(mut case in small_case(), which in 0usize..5) {
        let name = ["N", "n_in", "n_out", "B", "T"][which];
        match which {
            0 => case.net.n = 0,
            1 => case.net.n_in = 0,
            2 => case.net.n_out = 0,
            3 => case.batch.b = 0,
            _ => case.batch.t = 0,
        }
        let err = both_fail(&case);
        prop_assert_eq!(err, Error::EmptyDimension { name });
    }

    #[test]
    fn an_invalid_config_is_refused_before_the_data_is_read(mut case in small_case(), which in 0usize..5) {
        let field = match which {
            0 => { case.cfg.h = -1.0; "h" }
            1 => { case.cfg.tau = f64::NAN; "tau" }
            2 => { case.cfg.tau_s = case.cfg.h / 2.0; "h" }
            3 => { case.cfg.gate = Gate::Boxcar { delta: 2.0 }; "delta" }
            _ => { case.cfg.h = case.cfg.tau; "h" }
        };
        case.net.w.clear(); // a config error is reported first
        let err = both_fail(&case);
        prop_assert!(matches!(err, Error::InvalidConfig { field: f, .. } if f == field), "{}", err);
    }
}

#[test]
fn a_shape_whose_element_count_overflows_is_refused() {
    let net = Network {
        n: usize::MAX / 2,
        n_in: 1,
        n_out: 1,
        w: vec![],
        u: vec![],
        i0: vec![],
        o: vec![],
        w_mask: None,
        tau: None,
        tau_s: None,
    };
    let batch = Batch { b: 1, t: 1, v0: vec![], s0: vec![], x: vec![], i_ext: None };
    let cfg = Config { h: 0.1, tau: 10.0, tau_s: 10.0, gate: Gate::RaisedCosine { delta: 1.0 } };
    let err = spikegrad_reference::forward(&cfg, &net, &batch).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { array: "W", .. }), "{err}");
}

/// One neuron, one trial, T steps, everything zero except what a test sets.
fn one_neuron(t: usize) -> Case {
    Case {
        neuron: spikegrad_harness::Model::Theta,
        cfg: Config { h: 0.5, tau: 20.0, tau_s: 1000.0, gate: Gate::RaisedCosine { delta: 1.0 } },
        net: Network {
            n: 1,
            n_in: 1,
            n_out: 1,
            w: vec![0.0],
            u: vec![0.0],
            i0: vec![0.0],
            o: vec![0.0],
            w_mask: None,
            tau: None,
            tau_s: None,
        },
        batch: Batch { b: 1, t, v0: vec![-0.5], s0: vec![0.0], x: vec![0.0; t], i_ext: None },
        loss: Loss {
            task: TaskLoss::Mse { target: vec![0.0; t], mask: vec![1.0; t] },
            rate_penalty: 0.0,
        },
    }
}

#[test]
fn a_state_that_overflows_names_the_step_trial_and_neuron() {
    let mut case = one_neuron(5);
    case.net.w = vec![f64::MAX];
    case.batch.s0 = vec![4.0]; // W s_0 overflows: I_0 = inf, and v_1 with it
    let err = both_fail(&case);
    assert!(
        matches!(err, Error::NonFiniteState { quantity: "v", step: 1, trial: 0, neuron: 0 }),
        "{err}"
    );
    assert!(err.to_string().contains("step 1, trial 0, neuron 0"), "{err}");
}

#[test]
fn a_readout_that_overflows_the_loss_is_an_error() {
    let mut case = one_neuron(5);
    case.net.o = vec![1e200];
    case.batch.s0 = vec![1e-3];
    let err = both_fail(&case);
    assert!(matches!(err, Error::NonFiniteLoss { step: 1, trial: 0, channel: 0 }), "{err}");
}

#[test]
fn a_costate_that_overflows_names_the_step() {
    // loss ~ h/2 (O s)^2 ~ 1e306 is finite, but d_T = h O^T (O s) ~ 1e309 is not.
    let mut case = one_neuron(5);
    case.net.o = vec![1e156];
    case.batch.s0 = vec![1e-3];
    let value = loss(&case.cfg, &case.net, &case.batch, &case.loss).unwrap();
    assert!(value.is_finite());
    let err = gradient(&case.cfg, &case.net, &case.batch, &case.loss).unwrap_err();
    assert!(
        matches!(err, Error::NonFiniteGradient { quantity: "lam_s", step: Some(5), index: 0 }),
        "{err}"
    );
}

#[test]
fn every_param_is_checked_for_finiteness() {
    // Param and array_mut agree on the first seven names (W U I0 O v0 s0 x).
    let mut case = one_neuron(2);
    for (i, param) in Param::ALL.iter().take(7).enumerate() {
        assert_eq!(array_mut(&mut case, i).0, param.name());
    }
}

#[test]
fn a_valid_config_outside_the_kernels_precision_is_refused() {
    // Valid for docs/model.md, but h/tau underflows f32 and 1/Delta^2 overflows it (a
    // `kernels_vs_reference` fuzz finding: the f32 kernels ran with zero dynamics).
    use spikegrad::{Config as KConfig, Gate as KGate, Step};
    let tiny_step = KConfig::new(7.7e-121, 2.8e209, 2.8e209, KGate::RaisedCosine { delta: 1.0 });
    let err = Step::<f32>::new(&tiny_step).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid config: h = 7.7e-121: h = 7.7e-121 is not a normal f32"),
        "{err}"
    );
    let narrow_gate = KConfig::new(1e-100, 1.0, 1.0, KGate::Boxcar { delta: 1.2e-96 });
    assert!(Step::<f32>::new(&narrow_gate).is_err());
    // f64 represents the second, not the first.
    assert!(Step::<f64>::new(&tiny_step).is_err() && Step::<f64>::new(&narrow_gate).is_ok());
}

#[test]
fn a_step_below_the_kernels_precision_is_refused() {
    // Another `kernels_vs_reference` finding: h = 2.4e-310 is valid and h/tau is a normal
    // f32, but every readout error (h/B) m (o - ohat) underflowed to 0 in f32.
    use spikegrad::{Config as KConfig, Gate as KGate, Step};
    let config =
        KConfig::new(2.39e-310, 4.78e-299, 2.54e-29, KGate::RaisedCosine { delta: 5.2e-10 });
    assert!(config.validate().is_ok());
    let err = Step::<f32>::new(&config).unwrap_err();
    assert!(err.to_string().starts_with("invalid config: h = "), "{err}");
}
