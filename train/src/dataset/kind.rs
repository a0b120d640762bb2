//! The project's task generators by name: the task suite that `train task`'s defaults
//! are measured on (`spikegrad make-task KIND DIR`).

use super::generated::{GeneratedLoss, GeneratedTask};
use super::timed_yin_yang::{self, Gap};
use super::{patterns, yin_yang};
use crate::model::Trials;
use crate::predict::Predict;
use crate::rng::Rng;
use crate::xor::Xor;
use spikegrad::{Config, Gate};

/// A generated task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskKind {
    /// Yin-Yang with its four features held over a 100 ms trial
    /// ([`super::yin_yang`]).
    YinYang,
    /// Yin-Yang shown for 30 ms, read 10-30 ms after ([`timed_yin_yang`]).
    YinYangGap,
    /// Yin-Yang shown for 30 ms, read 50-100 ms after ([`timed_yin_yang`]).
    YinYangLongGap,
    /// Yin-Yang as pulse latencies ([`timed_yin_yang`]).
    YinYangLatency,
    /// Four classes of temporal spike patterns ([`patterns`]).
    Patterns,
    /// A smooth two-channel signal to reproduce, MSE from 50 ms on ([`Predict`]'s
    /// signal in 500 ms trials; h 1 ms, tau 10 ms, tau_s 10 ms).
    Smooth,
    /// The delayed-memory XOR ([`crate::xor`]) at h 2 ms, MSE over the response window.
    Xor,
}

impl TaskKind {
    /// Every kind, in the suite's order.
    pub const ALL: [TaskKind; 7] = [
        TaskKind::YinYang,
        TaskKind::YinYangGap,
        TaskKind::YinYangLongGap,
        TaskKind::YinYangLatency,
        TaskKind::Patterns,
        TaskKind::Smooth,
        TaskKind::Xor,
    ];

    /// The kind's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::YinYang => "yin-yang",
            TaskKind::YinYangGap => "yin-yang-gap",
            TaskKind::YinYangLongGap => "yin-yang-long-gap",
            TaskKind::YinYangLatency => "yin-yang-latency",
            TaskKind::Patterns => "patterns",
            TaskKind::Smooth => "smooth",
            TaskKind::Xor => "xor",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// One line on what the task asks.
    pub fn summary(self) -> &'static str {
        match self {
            TaskKind::YinYang => {
                "Yin-Yang: 3 classes of points in the plane, the four features held over \
                 100 ms (a linear classifier of the inputs scores about 64%)"
            }
            TaskKind::YinYangGap => {
                "Yin-Yang shown for 30 ms and read 10-30 ms after it ends (tau_s 5 ms: the \
                 class must be held by the recurrence)"
            }
            TaskKind::YinYangLongGap => "Yin-Yang shown for 30 ms and read 50-100 ms after",
            TaskKind::YinYangLatency => {
                "Yin-Yang as one 2 ms pulse per feature, its latency the feature's value"
            }
            TaskKind::Patterns => {
                "4 classes of temporal spike patterns over 8 channels, one pulse per channel \
                 in every class (the class is in the timing)"
            }
            TaskKind::Smooth => "reproduce a smooth 2-channel random signal (MSE)",
            TaskKind::Xor => "the delayed-memory XOR at h 2 ms (MSE over the response)",
        }
    }

    /// Steps per trial T.
    pub fn steps(self) -> usize {
        self.shape().0
    }

    /// Values of x, the target and mask per trial: for the memory a folder of K trials
    /// needs.
    pub fn values_per_trial(self) -> usize {
        let (steps, channels, outputs) = self.shape();
        steps * (channels + 2 * outputs)
    }

    /// (T, n_in, n_out of a regression or 0).
    fn shape(self) -> (usize, usize, usize) {
        match self {
            TaskKind::YinYang => (yin_yang::STEPS, yin_yang::CHANNELS, 0),
            TaskKind::YinYangGap => (120, 5, 0),
            TaskKind::YinYangLongGap => (260, 5, 0),
            TaskKind::YinYangLatency => (120, 5, 0),
            TaskKind::Patterns => (100, patterns::CHANNELS, 0),
            TaskKind::Smooth => (SMOOTH.steps(), 2, 2),
            TaskKind::Xor => (XOR.steps(), 2, 1),
        }
    }

    /// `trials` trials drawn with `seed`.
    pub fn generate(self, trials: usize, seed: u64) -> GeneratedTask {
        match self {
            TaskKind::YinYang => held_yin_yang(trials, seed),
            TaskKind::YinYangGap => timed_yin_yang::memory_gap(Gap::Short, trials, seed),
            TaskKind::YinYangLongGap => timed_yin_yang::memory_gap(Gap::Long, trials, seed),
            TaskKind::YinYangLatency => timed_yin_yang::latency(trials, seed),
            TaskKind::Patterns => patterns::generate(trials, seed),
            TaskKind::Smooth => smooth(trials, seed),
            TaskKind::Xor => xor(trials, seed),
        }
    }
}

/// The smooth signal's task: 500 ms trials at h 1 ms.
const SMOOTH: Predict = Predict { h: 1.0, duration_ms: 500.0, time_scale_ms: 50.0 };
/// Steps of the smooth task's start that the loss leaves out (every trial starts from
/// rest: its first steps cost the same whatever the coding).
const SMOOTH_SETTLING_STEPS: usize = 50;
/// The XOR's task folder: h 2 ms.
const XOR: Xor = Xor { h: 2.0 };

fn held_yin_yang(trials: usize, seed: u64) -> GeneratedTask {
    let points = yin_yang::sample(trials, seed);
    GeneratedTask {
        config: Config::new(1.0, 10.0, 10.0, Gate::RaisedCosine { delta: 1.0 }),
        steps: yin_yang::STEPS,
        trials,
        channels: yin_yang::CHANNELS,
        x: yin_yang::inputs(&points),
        loss: GeneratedLoss::CrossEntropy {
            labels: points.iter().map(|p| p.2 as i64).collect(),
            classes: yin_yang::CLASSES,
            from_step: yin_yang::STEPS / 2,
            to_step: yin_yang::STEPS,
        },
    }
}

/// Empty trials of `n_in` inputs and `n_out` outputs.
fn smooth(trials: usize, seed: u64) -> GeneratedTask {
    let steps = SMOOTH.steps();
    let mut drawn = Trials::zeros(trials, steps, 2, 2);
    SMOOTH.sample(&mut Rng::new(seed), &mut drawn);
    drawn.mask[..SMOOTH_SETTLING_STEPS * trials * 2].fill(0.0);
    GeneratedTask {
        config: SMOOTH.config(crate::predict::TAU, crate::predict::TAU_S),
        steps,
        trials,
        channels: 2,
        x: drawn.x,
        loss: GeneratedLoss::Mse { target: drawn.target, mask: drawn.mask, outputs: 2 },
    }
}

fn xor(trials: usize, seed: u64) -> GeneratedTask {
    let steps = XOR.steps();
    let mut drawn = Trials::zeros(trials, steps, 2, 1);
    XOR.sample(&mut Rng::new(seed), &mut drawn);
    GeneratedTask {
        config: XOR.config(),
        steps,
        trials,
        channels: 2,
        x: drawn.x,
        loss: GeneratedLoss::Mse { target: drawn.target, mask: drawn.mask, outputs: 1 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_named_sized_and_seeded() {
        for kind in TaskKind::ALL {
            assert_eq!(TaskKind::from_name(kind.name()), Some(kind));
            let task = kind.generate(6, 4);
            assert_eq!(task.x.len(), task.steps * 6 * task.channels, "{}", kind.name());
            let outputs = match &task.loss {
                GeneratedLoss::CrossEntropy { labels, from_step, to_step, .. } => {
                    assert_eq!(labels.len(), 6);
                    assert!(from_step < to_step && *to_step <= task.steps);
                    0
                }
                GeneratedLoss::Mse { target, mask, outputs } => {
                    assert_eq!(
                        (target.len(), mask.len()),
                        (task.steps * 6 * outputs, target.len())
                    );
                    assert!(mask.contains(&1.0));
                    *outputs
                }
            };
            let values = task.steps * (task.channels + 2 * outputs);
            assert_eq!(kind.values_per_trial(), values, "{}", kind.name());
            assert_eq!(kind.steps(), task.steps, "{}", kind.name());
            assert_eq!(task, kind.generate(6, 4), "{}: the same seed", kind.name());
            assert!(task.x.iter().all(|v| v.is_finite()));
        }
        assert_eq!(TaskKind::from_name("yin_yang"), None);
    }
}
