//! The Yin-Yang classification task (Kriener, Goeltz & Petrovici, "The Yin-Yang
//! dataset", NICE 2022), generated from a seed.
//!
//! A point (x, y) uniform in the unit square, inside the circle of radius 1/2 about its
//! centre, is yin (0), yang (1) or one of the two dots (2); classes are drawn equally
//! often. The inputs are the four channels (x, y, 1 - x, 1 - y), held constant over the
//! trial; the loss is the cross-entropy of the readout averaged over the second half of
//! the trial. The dataset's paper reports about 64% for a linear classifier of the inputs.

use crate::rng::Rng;

/// Steps of a trial (h = 1 ms: a 100 ms trial).
pub const STEPS: usize = 100;

/// Input channels: x, y, 1 - x, 1 - y.
pub const CHANNELS: usize = 4;

/// Classes: yin, yang, dot.
pub const CLASSES: usize = 3;

const R_BIG: f64 = 0.5;
const R_SMALL: f64 = 0.1;

/// The class of (x, y): 0 yin, 1 yang, 2 dot (the dataset's published rule).
pub fn class(x: f64, y: f64) -> usize {
    let d_right = ((x - 1.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    let d_left = ((x - 0.5 * R_BIG).powi(2) + (y - R_BIG).powi(2)).sqrt();
    if d_right < R_SMALL || d_left < R_SMALL {
        return 2;
    }
    let yin = d_right <= R_SMALL
        || (d_left > R_SMALL && d_left <= 0.5 * R_BIG)
        || (y > R_BIG && d_right > 0.5 * R_BIG);
    yin as usize
}

/// `trials` points, classes in turn 0, 1, 2, 0, ... (each by rejection sampling).
pub fn sample(trials: usize, seed: u64) -> Vec<(f64, f64, usize)> {
    let mut rng = Rng::new(seed);
    (0..trials)
        .map(|i| loop {
            let (x, y) = (rng.uniform(), rng.uniform());
            let inside = (x - R_BIG).powi(2) + (y - R_BIG).powi(2) <= R_BIG * R_BIG;
            if inside && class(x, y) == i % 3 {
                break (x, y, i % 3);
            }
        })
        .collect()
}

/// The inputs of `points` as a task's `x`, (STEPS, K, CHANNELS) in C order: each
/// point's four channels held over the whole trial.
pub fn inputs(points: &[(f64, f64, usize)]) -> Vec<f32> {
    let mut x = Vec::with_capacity(STEPS * points.len() * CHANNELS);
    for _ in 0..STEPS {
        for &(px, py, _) in points {
            x.extend([px, py, 1.0 - px, 1.0 - py].map(|v| v as f32));
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_come_in_turn_and_match_the_rule() {
        let points = sample(30, 7);
        for (i, &(x, y, label)) in points.iter().enumerate() {
            assert_eq!(label, i % CLASSES);
            assert_eq!(class(x, y), label);
            assert!((x - 0.5).powi(2) + (y - 0.5).powi(2) <= 0.25);
        }
        assert_eq!(points, sample(30, 7), "the same seed gives the same points");
        assert_eq!(inputs(&points).len(), STEPS * 30 * CHANNELS);
    }
}
