//! The distribution of training gradient norms: what a user reads to tell a healthy run
//! from one whose gradients explode.
//!
//! A healthy run's global gradient norm (before clipping) stays within a few orders of
//! magnitude of its median, and no step is skipped. Norms that reach 1e10 and beyond, or
//! skipped steps (a gradient that is not finite in the gradient's precision), mean the
//! costates grow through the run: with the explicit Euler phase step this happens for
//! strongly inhibited neurons (docs/model.md section 9), and the midpoint step
//! ([`crate::phase_step::PhaseStep::Midpoint`]) is the remedy. Clipping bounds the update
//! of such a step but not its direction, which the largest entries then dominate.

use crate::StepReport;

/// Gradient norms recorded over a stretch of training steps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GradientNorms {
    /// The finite norms of the steps taken, in order.
    norms: Vec<f64>,
    /// Steps skipped for a non-finite gradient.
    skipped: u64,
}

/// Summary of [`GradientNorms`]: order statistics of the norms of the steps taken
/// (NaN when no step was taken), and the count of skipped steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormSummary {
    /// Steps recorded, skipped ones included.
    pub steps: u64,
    /// Steps skipped for a non-finite gradient.
    pub skipped: u64,
    /// The median norm (the lower middle value of an even count).
    pub median: f64,
    /// The 99th percentile (nearest rank: the smallest norm with at least 99% of the
    /// norms at or below it).
    pub p99: f64,
    /// The largest norm.
    pub max: f64,
}

impl GradientNorms {
    /// No steps yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one step's report: its norm, or that it was skipped.
    pub fn record(&mut self, report: &StepReport) {
        if report.skipped || !report.gradient_norm.is_finite() {
            self.skipped += 1;
        } else {
            self.norms.push(report.gradient_norm);
        }
    }

    /// Adds every step recorded in `other` (e.g. a window into the whole run).
    pub fn extend(&mut self, other: &GradientNorms) {
        self.norms.extend_from_slice(&other.norms);
        self.skipped += other.skipped;
    }

    /// Forgets every step recorded (the start of a new window).
    pub fn clear(&mut self) {
        self.norms.clear();
        self.skipped = 0;
    }

    /// The order statistics of the norms so far.
    pub fn summary(&self) -> NormSummary {
        let mut sorted = self.norms.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| -> f64 {
            if sorted.is_empty() {
                return f64::NAN;
            }
            // Nearest rank: ceil(q n), 1-based.
            let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted[k - 1]
        };
        NormSummary {
            steps: sorted.len() as u64 + self.skipped,
            skipped: self.skipped,
            median: rank(0.5),
            p99: rank(0.99),
            max: sorted.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The norms of a whole run and of the window since its last check: what a training
/// loop reports at each check and at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GradientLog {
    since_check: GradientNorms,
    before_check: GradientNorms,
}

impl GradientLog {
    /// No steps yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one step's report.
    pub fn record(&mut self, report: &StepReport) {
        self.since_check.record(report);
    }

    /// The summary of the steps since the last check; the next window starts empty.
    pub fn check(&mut self) -> NormSummary {
        let summary = self.since_check.summary();
        self.before_check.extend(&self.since_check);
        self.since_check.clear();
        summary
    }

    /// The summary of every step recorded.
    pub fn run(&self) -> NormSummary {
        let mut all = self.before_check.clone();
        all.extend(&self.since_check);
        all.summary()
    }
}

impl std::fmt::Display for NormSummary {
    /// "gradient norm median 12.3, p99 4.5e2, max 1.2e3, 0 of 500 skipped".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "gradient norm median {:.3e}, p99 {:.3e}, max {:.3e}, {} of {} skipped",
            self.median, self.p99, self.max, self.skipped, self.steps
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(norm: f64) -> StepReport {
        StepReport { loss: 0.0, gradient_norm: norm, skipped: false }
    }

    #[test]
    fn order_statistics_by_nearest_rank() {
        let mut norms = GradientNorms::new();
        // 1..=200 shuffled by a stride coprime to 200.
        for k in 0..200u64 {
            norms.record(&taken(((k * 77) % 200 + 1) as f64));
        }
        norms.record(&StepReport { loss: f64::NAN, gradient_norm: f64::NAN, skipped: true });
        let s = norms.summary();
        assert_eq!((s.steps, s.skipped), (201, 1));
        assert_eq!((s.median, s.p99, s.max), (100.0, 198.0, 200.0));
    }

    #[test]
    fn empty_and_all_skipped_give_nan_statistics() {
        let mut norms = GradientNorms::new();
        assert!(norms.summary().median.is_nan());
        norms.record(&taken(f64::INFINITY));
        let s = norms.summary();
        assert_eq!((s.steps, s.skipped), (1, 1));
        assert!(s.max.is_nan() && s.p99.is_nan());
    }

    #[test]
    fn a_check_summarises_its_window_and_the_run_every_step() {
        let mut log = GradientLog::new();
        log.record(&taken(3.0));
        log.record(&taken(1.0));
        assert_eq!(log.check().steps, 2);
        log.record(&taken(2.0));
        assert_eq!(log.run().steps, 3);
        let window = log.check();
        assert_eq!((window.steps, window.max), (1, 2.0));
        let s = log.run();
        assert_eq!((s.steps, s.median, s.max), (3, 2.0, 3.0));
    }
}
