//! Backing off a run that has left its best: when [`FALLEN_CHECKS`] held-out checks in a
//! row score clearly below the best check, the run goes back to the best check's model,
//! with fresh optimiser moments, at [`BACK_OFF_RATE`] times its learning rate.
//!
//! Why: the probes rank learning rates by short runs, and a rate that wins a short run
//! can be too large for a long one: its held-out checks rise, then fall and stay fallen
//! (the task suite's latency-coded Yin-Yang is such a case; docs/your-data.md, "The task suite").
//! A run that falls and stays fallen is not noise; one that dips and recovers is left
//! alone.

use super::Score;

/// Checks in a row that must fall below the best before the run backs off: one check
/// can be unlucky; three in a row (3% of a run that checks every hundredth of its
/// iterations, the default) are a trend.
pub const FALLEN_CHECKS: usize = 3;

/// The factor on the learning rate at each back-off (the schedule keeps its shape).
pub const BACK_OFF_RATE: f64 = 0.5;

/// The smallest fall of held-out accuracy that counts, in its fraction (2 points);
/// larger where the held-out split is small, see [`fell`].
pub const ACCURACY_FALL: f64 = 0.02;

/// The rise of the held-out NMSE (or loss, for a task without one) that counts, as a
/// fraction of the best check's.
pub const LOSS_RISE: f64 = 0.5;

/// Whether `score`, a check on `trials` held-out trials, has fallen clearly below `best`:
/// an accuracy lower by more than [`ACCURACY_FALL`] and by more than three standard
/// errors of the best's accuracy on that many trials (sqrt(p (1 - p) / trials)); without
/// accuracy, an NMSE (else a loss) above the best's by more than [`LOSS_RISE`] of it; a
/// score that is not finite always has.
pub fn fell(score: &Score, best: &Score, trials: usize) -> bool {
    if !score.loss.is_finite() && best.loss.is_finite() {
        return true;
    }
    match (score.accuracy, best.accuracy, score.nmse, best.nmse) {
        (Some(a), Some(b), _, _) => {
            let standard_error = (b * (1.0 - b) / trials.max(1) as f64).sqrt();
            b - a > ACCURACY_FALL.max(3.0 * standard_error)
        }
        (_, _, Some(e), Some(best_e)) => e > best_e * (1.0 + LOSS_RISE),
        _ => score.loss - best.loss > LOSS_RISE * best.loss.abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accuracy(a: f64) -> Score {
        Score { loss: 1.0 - a, accuracy: Some(a), nmse: None }
    }

    fn nmse(e: f64) -> Score {
        Score { loss: e, accuracy: None, nmse: Some(e) }
    }

    #[test]
    fn a_fall_of_accuracy_counts_beyond_two_points_and_three_standard_errors() {
        // 1000 trials at 88.7%: three standard errors are 3.0 points.
        assert!(!fell(&accuracy(0.86), &accuracy(0.887), 1000));
        assert!(fell(&accuracy(0.85), &accuracy(0.887), 1000));
        // At 98%: two points rule.
        assert!(!fell(&accuracy(0.961), &accuracy(0.98), 1000));
        assert!(fell(&accuracy(0.95), &accuracy(0.98), 1000));
        // 50 trials: 3 standard errors of 90% are 12.7 points.
        assert!(!fell(&accuracy(0.8), &accuracy(0.9), 50));
        assert!(fell(&accuracy(0.76), &accuracy(0.9), 50));
    }

    #[test]
    fn a_rise_of_nmse_or_loss_counts_beyond_half_the_best() {
        assert!(!fell(&nmse(0.014), &nmse(0.01), 100));
        assert!(fell(&nmse(0.016), &nmse(0.01), 100));
        let loss = |l: f64| Score { loss: l, accuracy: None, nmse: None };
        assert!(!fell(&loss(-0.6), &loss(-1.0), 100));
        assert!(fell(&loss(-0.4), &loss(-1.0), 100));
    }

    #[test]
    fn a_score_that_is_not_finite_has_fallen() {
        let broken = Score { loss: f64::INFINITY, accuracy: Some(0.0), nmse: None };
        assert!(fell(&broken, &accuracy(0.5), 10));
        assert!(fell(&Score { loss: f64::NAN, ..nmse(0.01) }, &nmse(0.01), 10));
    }
}
