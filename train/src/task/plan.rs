//! A run's plan: the learning rate, the recurrent scale, the iterations and the checks
//! it follows, fixed at its start by the options, the probes ([`super::Probes`]) and the
//! time limit, reported to the user and kept by a resumed run.

use super::pace::CHECKS;
use super::Score;

/// One probe: a short run of a candidate setting and its held-out score.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Its learning rate ([`super::TaskOptions::learning_rate`]).
    pub learning_rate: f64,
    /// Its recurrent scale ([`super::StartScales::recurrent_current`]).
    pub recurrent_current: f64,
    /// Its iterations.
    pub iterations: usize,
    /// Its held-out score at the end.
    pub score: Score,
    /// Seconds it took.
    pub seconds: f64,
}

impl std::fmt::Display for Probe {
    /// "learning rate 0.01, recurrent scale 0.5, 300 iterations: held-out accuracy
    /// 83.50%, loss 0.4407 (4 s)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "learning rate {}, recurrent scale {}, {} iterations: held-out {} ({:.0} s)",
            self.learning_rate, self.recurrent_current, self.iterations, self.score, self.seconds
        )
    }
}

/// What chose a setting of a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChosenBy {
    /// The option's value ([`super::TaskOptions`]: the default or the user's).
    Option,
    /// The probes ([`super::Probes`]).
    Probes,
    /// Fitted to the time limit at the pace the run measured before it began.
    TimeLimit,
    /// Shortened to fit the time limit when the run fell behind its planned pace.
    TimeLeft,
    /// [`super::pace::UNTIMED_ITERATIONS`], for a run without a time limit.
    Untimed,
    /// The option's value, because no probe learned beyond the untrained model
    /// ([`super::learned`]): the probes could not rank the candidates.
    NoProbeLearned,
}

impl ChosenBy {
    /// Every chooser, in the order of [`ChosenBy::name`]'s names.
    pub const ALL: [ChosenBy; 6] = [
        ChosenBy::Option,
        ChosenBy::Probes,
        ChosenBy::TimeLimit,
        ChosenBy::TimeLeft,
        ChosenBy::Untimed,
        ChosenBy::NoProbeLearned,
    ];

    /// "option", "probes", "time limit", "time left", "untimed" or "no probe learned".
    pub fn name(self) -> &'static str {
        match self {
            ChosenBy::Option => "option",
            ChosenBy::Probes => "probes",
            ChosenBy::TimeLimit => "time limit",
            ChosenBy::TimeLeft => "time left",
            ChosenBy::Untimed => "untimed",
            ChosenBy::NoProbeLearned => "no probe learned",
        }
    }

    /// The chooser of this name.
    pub fn from_name(name: &str) -> Option<ChosenBy> {
        ChosenBy::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// What chose each setting of a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choices {
    /// Of the fresh model's neurons.
    pub neurons: ChosenBy,
    /// Of the learning rate.
    pub learning_rate: ChosenBy,
    /// Of the recurrent scale.
    pub recurrent_current: ChosenBy,
    /// Of the iterations.
    pub iterations: ChosenBy,
}

/// The settings a run follows, and how they were found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Plan {
    /// Neurons N of the model trained.
    pub neurons: usize,
    /// The learning rate ([`super::TaskOptions::learning_rate`]).
    pub learning_rate: f64,
    /// The recurrent scale of the fresh model ([`super::StartScales::recurrent_current`];
    /// NaN for a model given or resumed).
    pub recurrent_current: f64,
    /// The run's iterations.
    pub iterations: usize,
    /// Iterations between held-out checks.
    pub eval_every: usize,
    /// The probes that chose the learning rate and the recurrent scale, in the order
    /// they ran (none when both were given).
    pub probes: Vec<Probe>,
    /// The held-out score of the untrained model the probes start from, what a probe
    /// must clearly beat to count ([`super::learned`]); `None` without probes.
    pub untrained: Option<Score>,
    /// What chose each setting.
    pub chosen_by: Choices,
}

impl Plan {
    /// A plan of `iterations` for a model of `neurons`, with checks every `eval_every` or,
    /// when that is open, [`CHECKS`] in the run; every setting chosen by its option.
    pub fn new(
        neurons: usize,
        learning_rate: f64,
        recurrent_current: f64,
        iterations: usize,
        eval_every: Option<usize>,
    ) -> Self {
        Plan {
            neurons,
            learning_rate,
            recurrent_current,
            iterations,
            eval_every: eval_every.unwrap_or(iterations.div_ceil(CHECKS)).max(1),
            probes: Vec::new(),
            untrained: None,
            chosen_by: Choices {
                neurons: ChosenBy::Option,
                learning_rate: ChosenBy::Option,
                recurrent_current: ChosenBy::Option,
                iterations: ChosenBy::Option,
            },
        }
    }
}

impl std::fmt::Display for Plan {
    /// "128 neurons (option), learning rate 0.01 (probes), recurrent scale 0.15 (option),
    /// 12000 iterations (time limit), checks every 120; untrained: held-out accuracy
    /// 33.10%, loss 1.0986" (the last part only after probes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let by = self.chosen_by;
        write!(f, "{} neurons ({}), ", self.neurons, by.neurons.name())?;
        write!(f, "learning rate {} ({}), ", self.learning_rate, by.learning_rate.name())?;
        if self.recurrent_current.is_finite() {
            let name = by.recurrent_current.name();
            write!(f, "recurrent scale {} ({name}), ", self.recurrent_current)?;
        }
        let (n, every) = (self.iterations, self.eval_every);
        write!(f, "{n} iterations ({}), checks every {every}", by.iterations.name())?;
        match &self.untrained {
            Some(score) => write!(f, "; untrained: held-out {score}"),
            None => Ok(()),
        }
    }
}
