//! The step map a model's phases are advanced by (docs/model.md section 9), chosen at
//! run time, and the kernels' compiled step of either map behind one type.

use spikegrad::{
    Batch, Config, Error, Gradient, GradientOptions, Loss, Network, Real, Record, Step, Theta,
    ThetaMidpoint, Workspace,
};

/// How a theta network's phases are stepped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhaseStep {
    /// The explicit Euler step (h/tau) f(v, I) ([`spikegrad::Theta`]).
    #[default]
    Euler,
    /// The midpoint step, stable for every current ([`spikegrad::ThetaMidpoint`]).
    Midpoint,
}

impl PhaseStep {
    /// The step map the paper's tasks train with by default: the midpoint step. The
    /// Euler step's costates grow without bound through strongly inhibited neurons
    /// (docs/model.md section 9), so the gradient is dominated by a few of them; with the
    /// midpoint step the unstructured XOR start learns its memory and the rate penalty of
    /// predictive coding acts (docs/training.md, "Which phase step"). (A model file without a step map
    /// still means the Euler step: [`PhaseStep::default`].)
    pub const TRAINING: PhaseStep = PhaseStep::Midpoint;

    /// Every step map, in the order of their names.
    pub const ALL: [PhaseStep; 2] = [PhaseStep::Euler, PhaseStep::Midpoint];

    /// Its name in `config.json` and on the command line: "euler" or "midpoint".
    pub fn name(self) -> &'static str {
        match self {
            PhaseStep::Euler => "euler",
            PhaseStep::Midpoint => "midpoint",
        }
    }

    /// The step map named `name`, if any.
    pub fn from_name(name: &str) -> Option<PhaseStep> {
        PhaseStep::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The kernels' step for a configuration, with either step map.
#[derive(Debug, Clone)]
pub enum ModelStep<T: Real> {
    /// The explicit Euler step.
    Euler(Step<T, Theta>),
    /// The midpoint step.
    Midpoint(Step<T, ThetaMidpoint>),
}

/// `$body` with `$step` bound to the compiled step, whichever its map.
macro_rules! with_step {
    ($self:expr, $step:ident => $body:expr) => {
        match $self {
            ModelStep::Euler($step) => $body,
            ModelStep::Midpoint($step) => $body,
        }
    };
}

impl<T: Real> ModelStep<T> {
    /// The step for `config` with `map`; the configuration's errors as [`Step::new`]'s.
    pub fn new(config: &Config, map: PhaseStep) -> Result<Self, Error> {
        Ok(match map {
            PhaseStep::Euler => ModelStep::Euler(Step::with_neuron(config, Theta)?),
            PhaseStep::Midpoint => ModelStep::Midpoint(Step::with_neuron(config, ThetaMidpoint)?),
        })
    }

    /// [`Workspace::forward`] with this step.
    pub fn forward(
        &self,
        workspace: &mut Workspace<T>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        record: Record,
    ) -> Result<(), Error> {
        with_step!(self, step => workspace.forward(step, net, batch, record))
    }

    /// [`Workspace::loss`] with this step.
    pub fn loss(
        &self,
        workspace: &mut Workspace<T>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
    ) -> Result<f64, Error> {
        with_step!(self, step => workspace.loss(step, net, batch, loss))
    }

    /// [`Workspace::gradient_with_options`] with this step.
    pub fn gradient<'w>(
        &self,
        workspace: &'w mut Workspace<T>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
        options: GradientOptions,
    ) -> Result<&'w Gradient<T>, Error> {
        with_step!(self, step => workspace.gradient_with_options(step, net, batch, loss, options))
    }
}
