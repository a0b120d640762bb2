//! Temporal patterns: [`CLASSES`] classes of spike patterns over [`CHANNELS`] input
//! channels, told apart only by timing. Each class is a template, one pulse time per
//! channel, uniform on [0, [`SPAN_MS`]) ms and the same for every seed (drawn from
//! [`TEMPLATE_SEED`], so folders made with different seeds are one task); each trial
//! shows its class's template with every pulse moved by N(0, [`JITTER_MS`]^2) ms
//! (kept within the span), each pulse 1 for [`PULSE_MS`] ms. Every channel fires once
//! in every class: no channel, and no count, names the class. The class is read by
//! cross-entropy over the last half of a 100 ms trial; h 1 ms, tau 10 ms, tau_s 10 ms.

use super::generated::{GeneratedLoss, GeneratedTask};
use crate::rng::Rng;
use spikegrad::{Config, Gate};

/// Classes.
pub const CLASSES: usize = 4;
/// Input channels.
pub const CHANNELS: usize = 8;
/// Pulse times of the templates lie in [0, SPAN_MS) ms.
pub const SPAN_MS: f64 = 50.0;
/// Standard deviation of each pulse's jitter (ms).
pub const JITTER_MS: f64 = 3.0;
/// Length of a pulse (ms).
pub const PULSE_MS: f64 = 3.0;
/// Trial length (ms).
pub const TRIAL_MS: f64 = 100.0;
/// The seed of the templates.
pub const TEMPLATE_SEED: u64 = 0x7e3_91a7e;
/// Euler step (ms).
pub const H: f64 = 1.0;

/// The class templates: `templates()[class][channel]` is a pulse time in ms.
pub fn templates() -> [[f64; CHANNELS]; CLASSES] {
    let mut rng = Rng::new(TEMPLATE_SEED);
    core::array::from_fn(|_| core::array::from_fn(|_| rng.range(0.0, SPAN_MS)))
}

/// `trials` trials drawn with `seed`, classes in turn 0, 1, 2, 3, 0, ...
pub fn generate(trials: usize, seed: u64) -> GeneratedTask {
    let templates = templates();
    let mut rng = Rng::new(seed);
    let steps = (TRIAL_MS / H).round() as usize;
    let pulse = (PULSE_MS / H).round() as usize;
    let mut x = vec![0.0f32; steps * trials * CHANNELS];
    let mut labels = Vec::with_capacity(trials);
    for k in 0..trials {
        let class = k % CLASSES;
        labels.push(class as i64);
        for (channel, &time) in templates[class].iter().enumerate() {
            let moved = (time + rng.normal(0.0, JITTER_MS)).clamp(0.0, SPAN_MS);
            let start = (moved / H).round() as usize;
            for step in start..start + pulse {
                x[(step * trials + k) * CHANNELS + channel] = 1.0;
            }
        }
    }
    GeneratedTask {
        config: Config::new(H, 10.0, 10.0, Gate::RaisedCosine { delta: 1.0 }),
        steps,
        trials,
        channels: CHANNELS,
        x,
        loss: GeneratedLoss::CrossEntropy {
            labels,
            classes: CLASSES,
            from_step: steps / 2,
            to_step: steps,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_fires_once_per_trial_near_its_template() {
        let task = generate(20, 9);
        let templates = templates();
        for k in 0..20 {
            for (channel, &template) in templates[k % CLASSES].iter().enumerate() {
                let on: Vec<usize> = (0..task.steps)
                    .filter(|&t| task.x[(t * 20 + k) * CHANNELS + channel] == 1.0)
                    .collect();
                assert_eq!(on.len(), 3, "trial {k}, channel {channel}");
                assert!((on[0] as f64 - template).abs() <= 6.0 * JITTER_MS + 1.0);
            }
        }
        assert_eq!(templates, super::templates(), "the templates do not depend on the seed");
        assert_ne!(generate(20, 9).x, generate(20, 10).x);
    }
}
