//! `spikegrad grad --engine reference`: a case folder computed by the reference crate
//! (docs/model.md transcribed line by line, in f64), to compare the kernels with on the
//! user's own case. Behind the `reference-engine` feature (on by default), so that a
//! build without it links no reference code.

use spikegrad_io::case::{Case, CaseLoss, Gradients, NeuronModel};

/// The reference's form of a case's configuration; an error for a gate the reference
/// lacks.
fn reference_config(config: &spikegrad::Config) -> Result<spikegrad_reference::Config, String> {
    use spikegrad::Gate;
    use spikegrad_reference::Gate as R;
    let gate = match config.gate {
        Gate::Boxcar { delta } => R::Boxcar { delta },
        Gate::RaisedCosine { delta } => R::RaisedCosine { delta },
        other => return Err(format!("the reference engine has no gate {other:?}")),
    };
    let spikegrad::Config { h, tau, tau_s, .. } = *config;
    Ok(spikegrad_reference::Config { h, tau, tau_s, gate })
}

/// The reference's transcription of a neuron model.
fn reference_neuron(model: NeuronModel) -> &'static dyn spikegrad_reference::Neuron {
    match model {
        NeuronModel::Theta => &spikegrad_reference::Theta,
        NeuronModel::HopfPhase => &spikegrad_reference::HopfPhase,
        NeuronModel::ThetaMidpoint => &spikegrad_reference::ThetaMidpoint,
    }
}

/// The reference's loss of a case; an error for a loss the reference lacks.
fn reference_loss(case: &Case) -> Result<spikegrad_reference::Loss, String> {
    use spikegrad_reference::TaskLoss;
    let task = match &case.loss {
        CaseLoss::Mse { target, mask } => {
            TaskLoss::Mse { target: target.clone(), mask: mask.clone() }
        }
        CaseLoss::Linear { g } => TaskLoss::Linear { g: g.clone() },
        CaseLoss::CrossEntropy { labels, from_step, to_step } => TaskLoss::CrossEntropy {
            labels: labels.clone(),
            from_step: *from_step,
            to_step: *to_step,
        },
        other => return Err(format!("the reference engine has no {} loss", other.kind())),
    };
    Ok(spikegrad_reference::Loss { task, rate_penalty: case.rate_penalty })
}

/// The loss and every gradient of `case` by the reference implementation, in f64.
pub fn gradient(case: &Case) -> Result<Gradients, String> {
    use spikegrad_reference as r;
    let cfg = reference_config(&case.config)?;
    let v = &case.values;
    let net = r::Network {
        n: case.dims.n,
        n_in: case.dims.n_in,
        n_out: case.dims.n_out,
        w: v[0].clone(),
        u: v[1].clone(),
        i0: v[2].clone(),
        o: v[3].clone(),
        w_mask: case.w_mask.clone(),
        tau: case.tau.clone(),
        tau_s: case.tau_s.clone(),
    };
    let batch = r::Batch {
        b: case.dims.b,
        t: case.dims.t,
        v0: v[4].clone(),
        s0: v[5].clone(),
        x: v[6].clone(),
        i_ext: case.i_ext.clone(),
    };
    let g =
        r::gradient_with(&cfg, &net, &batch, &reference_loss(case)?, reference_neuron(case.neuron))
            .map_err(|e| e.to_string())?;
    let mut values = vec![g.w, g.u, g.i0, g.o, g.v0, g.s0, g.x];
    if case.i_ext.is_some() {
        values.push(g.current);
    }
    Ok(Gradients::new(case.dims, g.loss, values, [g.tau, g.tau_s], g.delta))
}
