//! Yin-Yang with the input in time: the points of [`super::yin_yang`], shown
//! briefly, so the network must carry the class past its input (a memory gap) or read
//! it from spike timing (latency coding).
//!
//! - **Memory gap.** The four features as currents 2f - 1 (f = x, y, 1 - x, 1 - y) and a
//!   stimulus-on channel of 1, for the first 30 ms; nothing after. The class is read by
//!   cross-entropy over a window that starts `gap` ms after the input ends and lasts
//!   20 ms (short gap, 10-30 ms after) or 50 ms (long gap, 50-100 ms after). h 0.5 ms,
//!   tau 10 ms, tau_s 5 ms: the synapses forget the input within the gap.
//! - **Latency coding.** Each feature f is one pulse of 1 for 2 ms starting at
//!   5 + 25 f ms, beside a reference pulse at 0 ms on a fifth channel; nothing else.
//!   The class is read over the last 20 ms of a 60 ms trial. h 0.5 ms, tau 10 ms,
//!   tau_s 5 ms.

use super::generated::{GeneratedLoss, GeneratedTask};
use super::yin_yang::{self, CLASSES};
use spikegrad::{Config, Gate};

/// Euler step of both variants (ms).
pub const H: f64 = 0.5;
/// Membrane time constant (ms).
pub const TAU: f64 = 10.0;
/// Synaptic time constant (ms).
pub const TAU_S: f64 = 5.0;
/// How long the memory-gap variants show their input (ms).
pub const INPUT_MS: f64 = 30.0;

/// How far past the input the memory-gap variant reads the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// The window 10-30 ms after the input ends (a 60 ms trial).
    Short,
    /// The window 50-100 ms after the input ends (a 130 ms trial).
    Long,
}

impl Gap {
    /// The read-out window after the input ends, (start, end) in ms.
    pub fn window_ms(self) -> (f64, f64) {
        match self {
            Gap::Short => (10.0, 30.0),
            Gap::Long => (50.0, 100.0),
        }
    }
}

fn config() -> Config {
    Config::new(H, TAU, TAU_S, Gate::RaisedCosine { delta: 1.0 })
}

/// Steps of `ms` milliseconds at [`H`].
fn steps(ms: f64) -> usize {
    (ms / H).round() as usize
}

fn labels(points: &[(f64, f64, usize)]) -> Vec<i64> {
    points.iter().map(|p| p.2 as i64).collect()
}

/// The memory-gap Yin-Yang of `trials` points drawn with `seed`: 5 channels.
pub fn memory_gap(gap: Gap, trials: usize, seed: u64) -> GeneratedTask {
    let points = yin_yang::sample(trials, seed);
    let (read_from, read_to) = gap.window_ms();
    let (on, from_step, to_step) =
        (steps(INPUT_MS), steps(INPUT_MS + read_from), steps(INPUT_MS + read_to));
    const CHANNELS: usize = 5;
    let mut x = vec![0.0f32; to_step * trials * CHANNELS];
    for step in 0..on {
        for (k, &(px, py, _)) in points.iter().enumerate() {
            let features = [px, py, 1.0 - px, 1.0 - py].map(|f| (2.0 * f - 1.0) as f32);
            let at = (step * trials + k) * CHANNELS;
            x[at..at + 4].copy_from_slice(&features);
            x[at + 4] = 1.0;
        }
    }
    GeneratedTask {
        config: config(),
        steps: to_step,
        trials,
        channels: CHANNELS,
        x,
        loss: GeneratedLoss::CrossEntropy {
            labels: labels(&points),
            classes: CLASSES,
            from_step,
            to_step,
        },
    }
}

/// Trial length of the latency-coded variant (ms).
pub const LATENCY_TRIAL_MS: f64 = 60.0;
/// A feature f's pulse starts at `LATENCY_FIRST + LATENCY_RANGE f` ms.
pub const LATENCY_FIRST: f64 = 5.0;
/// See [`LATENCY_FIRST`].
pub const LATENCY_RANGE: f64 = 25.0;
/// Length of every pulse (ms).
pub const PULSE_MS: f64 = 2.0;

/// The latency-coded Yin-Yang of `trials` points drawn with `seed`: 5 channels (the four
/// features' pulses, then the reference pulse at 0 ms).
pub fn latency(trials: usize, seed: u64) -> GeneratedTask {
    let points = yin_yang::sample(trials, seed);
    const CHANNELS: usize = 5;
    let (t, pulse) = (steps(LATENCY_TRIAL_MS), steps(PULSE_MS));
    let mut x = vec![0.0f32; t * trials * CHANNELS];
    for (k, &(px, py, _)) in points.iter().enumerate() {
        let starts = [px, py, 1.0 - px, 1.0 - py].map(|f| steps(LATENCY_FIRST + LATENCY_RANGE * f));
        let starts = [starts[0], starts[1], starts[2], starts[3], 0];
        for (channel, &start) in starts.iter().enumerate() {
            for step in start..(start + pulse).min(t) {
                x[(step * trials + k) * CHANNELS + channel] = 1.0;
            }
        }
    }
    GeneratedTask {
        config: config(),
        steps: t,
        trials,
        channels: CHANNELS,
        x,
        loss: GeneratedLoss::CrossEntropy {
            labels: labels(&points),
            classes: CLASSES,
            from_step: t - steps(20.0),
            to_step: t,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(task: &GeneratedTask) -> (usize, usize) {
        match task.loss {
            GeneratedLoss::CrossEntropy { from_step, to_step, .. } => (from_step, to_step),
            _ => unreachable!("a classification"),
        }
    }

    #[test]
    fn the_memory_gap_shows_its_input_then_nothing() {
        let task = memory_gap(Gap::Short, 9, 3);
        assert_eq!((task.steps, task.channels), (120, 5));
        assert_eq!(window(&task), (80, 120));
        let step = |t: usize| &task.x[t * 9 * 5..(t + 1) * 9 * 5];
        assert!(step(59).chunks(5).all(|c| c[4] == 1.0 && c[..4].iter().all(|f| f.abs() <= 1.0)));
        assert!((60..120).all(|t| step(t).iter().all(|&v| v == 0.0)));
        let long = memory_gap(Gap::Long, 9, 3);
        assert_eq!((long.steps, window(&long)), (260, (160, 260)));
        assert_eq!(task.x[..60 * 45], long.x[..60 * 45], "the same points, the same input");
    }

    #[test]
    fn latency_coding_puts_one_pulse_per_channel() {
        let task = latency(12, 5);
        assert_eq!((task.steps, task.channels, window(&task)), (120, 5, (80, 120)));
        for k in 0..12 {
            for channel in 0..5 {
                let on: Vec<usize> =
                    (0..120).filter(|&t| task.x[(t * 12 + k) * 5 + channel] == 1.0).collect();
                assert_eq!(on.len(), 4, "trial {k} channel {channel}: {on:?}");
                assert_eq!(on[3] - on[0], 3, "one contiguous pulse");
                assert!(on[0] <= steps(LATENCY_FIRST + LATENCY_RANGE));
            }
        }
    }
}
