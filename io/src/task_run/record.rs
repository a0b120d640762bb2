//! A run's record in JSON: the held-out scores, checks and gradient norms of
//! `metrics.json`, and the progress a checkpoint's `optimizer/state.json` keeps.

use serde_json::{json, Value};
use spikegrad_train::adam::Clip;
use spikegrad_train::gradient_norms::NormSummary;
use spikegrad_train::task::{Best, Check, Choices, ChosenBy, Plan, Probe, Progress, Score};

/// A number, or null where JSON has none (NaN, infinities).
pub fn finite_or_null(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// A [`NormSummary`]: `{"steps", "skipped", "median", "p99", "max"}`, the statistics
/// null when no step was taken.
pub fn norms_json(s: &NormSummary) -> Value {
    json!({ "steps": s.steps, "skipped": s.skipped, "median": s.median, "p99": s.p99, "max": s.max })
}

fn norms_from_json(value: &Value) -> Option<NormSummary> {
    let number = |key: &str| value.get(key).map(|x| x.as_f64().unwrap_or(f64::NAN));
    Some(NormSummary {
        steps: value.get("steps")?.as_u64()?,
        skipped: value.get("skipped")?.as_u64()?,
        median: number("median")?,
        p99: number("p99")?,
        max: number("max")?,
    })
}

/// A [`Score`]: `{"loss", "accuracy", "nmse"}` (a loss that is not finite as null).
pub fn score_json(s: &Score) -> Value {
    json!({ "loss": finite_or_null(s.loss), "accuracy": s.accuracy, "nmse": s.nmse.map(finite_or_null) })
}

fn score_from_json(value: &Value) -> Option<Score> {
    Some(Score {
        loss: value.get("loss")?.as_f64().unwrap_or(f64::INFINITY),
        accuracy: value.get("accuracy").and_then(|a| a.as_f64()),
        nmse: value.get("nmse").and_then(|a| a.as_f64()),
    })
}

/// A held-out check: `{"iteration", "score", "seconds", "gradient_norms"}`.
pub fn check_json(c: &Check) -> Value {
    let mut value =
        json!({ "iteration": c.iteration, "score": score_json(&c.score), "seconds": c.seconds });
    if let Some(norms) = &c.gradient_norms {
        value["gradient_norms"] = norms_json(norms);
    }
    value
}

fn check_from_json(value: &Value) -> Option<Check> {
    Some(Check {
        iteration: value.get("iteration")?.as_u64()? as usize,
        score: score_from_json(value.get("score")?)?,
        seconds: value.get("seconds").and_then(|s| s.as_f64()).unwrap_or(f64::NAN),
        gradient_norms: value.get("gradient_norms").and_then(norms_from_json),
    })
}

/// A run's [`Plan`]: `{"neurons", "learning_rate", "recurrent_current", "iterations",
/// "eval_every", "chosen_by": {"neurons", "learning_rate", "recurrent_current",
/// "iterations"}, "probes": [{
/// "learning_rate", "recurrent_current", "iterations", "score", "seconds"}],
/// "untrained": score}` (a recurrent scale of a model given as null; the untrained
/// model's score null without probes).
pub fn plan_json(plan: &Plan) -> Value {
    let probes: Vec<Value> = plan
        .probes
        .iter()
        .map(|p| {
            json!({ "learning_rate": p.learning_rate, "recurrent_current": p.recurrent_current,
                "iterations": p.iterations, "score": score_json(&p.score), "seconds": p.seconds })
        })
        .collect();
    let by = plan.chosen_by;
    json!({
        "neurons": plan.neurons, "learning_rate": plan.learning_rate,
        "recurrent_current": finite_or_null(plan.recurrent_current),
        "iterations": plan.iterations, "eval_every": plan.eval_every,
        "chosen_by": { "neurons": by.neurons.name(), "learning_rate": by.learning_rate.name(),
            "recurrent_current": by.recurrent_current.name(), "iterations": by.iterations.name() },
        "probes": probes, "untrained": plan.untrained.as_ref().map(score_json),
    })
}

/// A [`Clip`]: `{"kind": "none" | "global" | "per_parameter", "norm"}`.
pub fn clip_json(clip: Clip) -> Value {
    match clip {
        Clip::GlobalNorm(norm) => json!({ "kind": "global", "norm": norm }),
        Clip::PerParameter(norm) => json!({ "kind": "per_parameter", "norm": norm }),
        _ => json!({ "kind": "none" }),
    }
}

/// What chose a setting, by its name ([`ChosenBy::name`]); the option's value when the
/// record names none it knows.
fn chosen_by(value: &Value) -> ChosenBy {
    value.as_str().and_then(ChosenBy::from_name).unwrap_or(ChosenBy::Option)
}

fn plan_from_json(value: &Value) -> Option<Plan> {
    let count = |key: &str| value.get(key)?.as_u64().map(|x| x as usize).filter(|&x| x > 0);
    let rate = value.get("learning_rate")?.as_f64().filter(|r| r.is_finite() && *r > 0.0)?;
    let recurrent = value.get("recurrent_current").and_then(|r| r.as_f64()).unwrap_or(f64::NAN);
    let (iterations, every) = (count("iterations")?, Some(count("eval_every")?));
    let mut plan = Plan::new(count("neurons")?, rate, recurrent, iterations, every);
    let by = &value["chosen_by"];
    plan.chosen_by = Choices {
        neurons: chosen_by(&by["neurons"]),
        learning_rate: chosen_by(&by["learning_rate"]),
        recurrent_current: chosen_by(&by["recurrent_current"]),
        iterations: chosen_by(&by["iterations"]),
    };
    plan.untrained = score_from_json(&value["untrained"]);
    plan.probes = value["probes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(Probe {
                        learning_rate: p.get("learning_rate")?.as_f64()?,
                        recurrent_current: p.get("recurrent_current")?.as_f64()?,
                        iterations: p.get("iterations")?.as_u64()? as usize,
                        score: score_from_json(p.get("score")?)?,
                        seconds: p.get("seconds")?.as_f64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(plan)
}

/// The best check: `{"iteration", "score"}`, or null.
pub fn best_json(best: Option<Best>) -> Value {
    json!(best.map(|b| json!({ "iteration": b.iteration, "score": score_json(&b.score) })))
}

/// The progress of a run after `seconds` of training, as a checkpoint keeps it.
pub fn progress_json(p: &Progress, seconds: f64) -> Value {
    let losses: Vec<Value> =
        p.losses.iter().map(|&(i, l)| json!([i as f64, finite_or_null(l)])).collect();
    json!({
        "seed": p.seed, "step_scales": p.step_scales, "iteration": p.iteration,
        "since_improved": p.since_improved, "best": best_json(p.best), "losses": losses,
        "checks": p.checks.iter().map(check_json).collect::<Vec<_>>(), "seconds": seconds,
        "plan": p.plan.as_ref().map(plan_json), "fallen": p.fallen, "back_offs": p.back_offs,
    })
}

/// The progress a checkpoint keeps, read back: the seconds so far become
/// [`Progress::seconds_before`]. Where a field is missing, `seed` and `step_scales`
/// stand in for the record's own, and the rest starts afresh.
pub fn progress_from_json(value: &Value, seed: u64, step_scales: [f64; 4]) -> Progress {
    let saved_scales = value["step_scales"].as_array().and_then(|a| {
        let v: Vec<f64> = a.iter().filter_map(|x| x.as_f64()).collect();
        <[f64; 4]>::try_from(v).ok().filter(|s| s.iter().all(|x| x.is_finite() && *x > 0.0))
    });
    let best = value["best"].as_object().and_then(|b| {
        let score = score_from_json(b.get("score")?)?;
        Some(Best { score, iteration: b.get("iteration")?.as_u64()? as usize })
    });
    let losses = value["losses"].as_array().map(|a| {
        a.iter()
            .filter_map(|p| Some((p[0].as_f64()? as usize, p[1].as_f64().unwrap_or(f64::NAN))))
            .collect()
    });
    let checks = value["checks"].as_array().map(|a| a.iter().filter_map(check_from_json).collect());
    Progress {
        plan: plan_from_json(&value["plan"]),
        iteration: value["iteration"].as_u64().unwrap_or(0) as usize,
        best,
        since_improved: value["since_improved"].as_u64().unwrap_or(0) as usize,
        fallen: value["fallen"].as_u64().unwrap_or(0) as usize,
        back_offs: value["back_offs"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| Some(i.as_u64()? as usize)).collect())
            .unwrap_or_default(),
        losses: losses.unwrap_or_default(),
        checks: checks.unwrap_or_default(),
        seconds_before: value["seconds"].as_f64().unwrap_or(0.0),
        ..Progress::new(value["seed"].as_u64().unwrap_or(seed), saved_scales.unwrap_or(step_scales))
    }
}
