//! How [`crate::task::train`] trains: every option of a run on the user's own task, with
//! its default in one place.

use super::{Probes, StartScales};
use crate::adam::Clip;
use crate::error::{check_counts, check_positive};
use crate::Precision;
use crate::TrainError;

/// The options of a run on a task. [`TaskOptions::default`] holds every default; the
/// command line and the Python module start from it and override what the user gives.
/// What is left open (`None`, or a list of [`Probes`] to choose from) the run fixes at
/// its start and reports in its [`super::Plan`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskOptions {
    /// Neurons N of a fresh start (a resumed or loaded model keeps its own), unless no
    /// probe learned ([`Probes::fallback_neurons`]).
    pub neurons: usize,
    /// Training iterations, the total counting those of a resumed run. `None`: as many
    /// as fit in [`TaskOptions::time_limit`] at the speed the probes measured (at most
    /// [`super::pace::MAX_ITERATIONS`]; [`super::pace::UNTIMED_ITERATIONS`] without a
    /// time limit).
    pub iterations: Option<usize>,
    /// Trials per training batch (all training trials when there are fewer).
    pub batch: usize,
    /// Adam's step on W, U and I0 (and ln tau, ln tau_s when trained) as a fraction of
    /// each array's RMS at the start ([`super::step_scales`]); a cosine decay to
    /// [`TaskOptions::final_rate`] of it at the last iteration. Used when
    /// [`Probes::learning_rates`] is empty, when no probe has learned ([`super::learned`]),
    /// and for a start from a model given; else the probes choose.
    pub learning_rate: f64,
    /// Adam's step on the readout O as a fraction of its RMS at the start (the loss is
    /// convex in O, and O must grow well beyond its start), decayed alike.
    pub readout_learning_rate: f64,
    /// The learning rates at the last iteration, as a fraction of their starts.
    pub final_rate: f64,
    /// How each step's gradient is clipped before Adam.
    pub clip: Clip,
    /// The sizes a fresh model's currents start with ([`super::initial_model`]); the
    /// recurrent one is used when [`Probes::recurrent_currents`] is empty.
    pub start: StartScales,
    /// The short runs a fresh start chooses its learning rate and recurrent scale by.
    pub probes: Probes,
    /// Seed of the initial weights and of the batches.
    pub seed: u64,
    /// Precision of the training gradient.
    pub precision: Precision,
    /// Train a membrane and a synaptic time constant per neuron (kept valid).
    pub train_time_constants: bool,
    /// Iterations between held-out checks. `None`: a hundredth of the run.
    pub eval_every: Option<usize>,
    /// Stop after this many checks without a better held-out score (0: never).
    pub patience: usize,
    /// Minutes between checkpoints ([`super::TaskObserver::checkpoint`]).
    pub checkpoint_minutes: f64,
    /// Stop training after this many seconds of the run, probes included (0: no limit);
    /// the run then ends as after its last iteration, and can be resumed.
    pub time_limit: f64,
    /// End after this iteration as an interruption would (a checkpoint saved, the
    /// schedule still that of [`TaskOptions::iterations`]), so that a long run can be
    /// split into parts.
    pub pause_at: Option<usize>,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            neurons: 128,
            iterations: None,
            batch: 32,
            learning_rate: 3e-3,
            readout_learning_rate: 0.1,
            final_rate: 0.1,
            clip: Clip::GlobalNorm(1.0),
            start: StartScales::default(),
            probes: Probes::default(),
            seed: 1,
            precision: Precision::F32,
            train_time_constants: false,
            eval_every: None,
            patience: 0,
            checkpoint_minutes: 2.0,
            time_limit: 270.0,
            pause_at: None,
        }
    }
}

impl TaskOptions {
    /// Gives the neurons of a fresh start: they stand whatever the probes learn.
    pub fn set_neurons(&mut self, n: usize) {
        (self.neurons, self.probes.fallback_neurons) = (n, None);
    }

    /// Gives the learning rate: the probes no longer choose it.
    pub fn set_learning_rate(&mut self, rate: f64) {
        (self.learning_rate, self.probes.learning_rates) = (rate, Vec::new());
    }

    /// Gives a fresh model's recurrent scale: the probes no longer choose it.
    pub fn set_recurrent_current(&mut self, scale: f64) {
        (self.start.recurrent_current, self.probes.recurrent_currents) = (scale, Vec::new());
    }

    /// Sets what the user gave of the probed settings, each over the default: the
    /// candidates of the learning rate and of the recurrent scale, and each setting
    /// itself, which leaves its candidates aside.
    pub fn set_probed(
        &mut self,
        (rate, rates): (Option<f64>, Option<Vec<f64>>),
        (scale, scales): (Option<f64>, Option<Vec<f64>>),
    ) {
        if let Some(rates) = rates {
            self.probes.learning_rates = rates;
        }
        if let Some(rate) = rate {
            self.set_learning_rate(rate);
        }
        if let Some(scales) = scales {
            self.probes.recurrent_currents = scales;
        }
        if let Some(scale) = scale {
            self.set_recurrent_current(scale);
        }
    }

    /// Sets what the user gave of the clipping: its kind by name ([`Clip::NAMES`]; an
    /// error for another) and its norm, each over the default.
    pub fn set_clip(&mut self, name: Option<&str>, norm: Option<f64>) -> Result<(), TrainError> {
        let norm = norm.or(self.clip.norm()).unwrap_or(1.0);
        let name = name.unwrap_or(self.clip.name());
        self.clip = Clip::from_name(name, norm).ok_or_else(|| {
            TrainError::option("clip", name, format!("must be one of {:?}", Clip::NAMES))
        })?;
        Ok(())
    }

    /// Checks every option; the error names the first one at fault
    /// ([`TrainError::Option`]).
    pub fn check(&self) -> Result<(), TrainError> {
        let counts = [
            ("neurons", self.neurons),
            ("iterations", self.iterations.unwrap_or(1)),
            ("batch", self.batch),
            ("eval_every", self.eval_every.unwrap_or(1)),
        ];
        check_counts(&counts)?;
        let positive = [
            ("learning_rate", self.learning_rate),
            ("readout_learning_rate", self.readout_learning_rate),
            ("checkpoint_minutes", self.checkpoint_minutes),
        ];
        check_positive(&positive)?;
        if !(self.final_rate > 0.0 && self.final_rate <= 1.0) {
            return Err(TrainError::option("final_rate", self.final_rate, "must be in (0, 1]"));
        }
        if let Clip::GlobalNorm(c) | Clip::PerParameter(c) = self.clip {
            if !(c.is_finite() && c > 0.0) {
                return Err(TrainError::option("clip_norm", c, "must be a finite norm > 0"));
            }
        }
        self.start.check()?;
        self.probes.check()?;
        if !(self.time_limit.is_finite() && self.time_limit >= 0.0) {
            let rule = "must be a finite number of seconds >= 0";
            return Err(TrainError::option("time_limit", self.time_limit, rule));
        }
        Ok(())
    }
}
