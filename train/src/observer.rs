//! What a training loop tells its caller, and how the caller answers: each step, each
//! held-out check, notes for the user, and a request to stop.

use crate::{StepReport, Trainer};

/// Whether a run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now (e.g. on Ctrl-C): the loop ends as its documentation says (a run on a
    /// task saves a checkpoint first) and returns its cancellation error.
    Stop,
}

/// The caller's side of a training loop whose held-out checks are `C`. Every method has
/// a default that does nothing, so an observer implements only what it needs.
pub trait Observer<C> {
    /// After each training step (`iteration` counts from 1, over resumed runs).
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        let _ = (iteration, report, trainer);
        Control::Continue
    }

    /// After each held-out check.
    fn check(&mut self, check: &C) -> Control {
        let _ = check;
        Control::Continue
    }

    /// A line for the user (e.g. that the run restarts, or stalled and ends early).
    fn note(&mut self, line: &str) {
        let _ = line;
    }
}

/// An observer that observes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl<C> Observer<C> for Quiet {}
