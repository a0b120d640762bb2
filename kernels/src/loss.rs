//! The built-in losses of docs/model.md section 6: their value, and the readout
//! gradient dL/do_t (and the direct dL/ds_t of the rate penalty) that the reverse sweep
//! starts from. Any other loss enters through [`Loss::linear`] or
//! [`Workspace::backward`](crate::Workspace::backward) with the caller's own dL/do.

use crate::error::Error;
use crate::network::{check_array, product, validate, Batch, Dims, Network};
use crate::real::Real;

/// The task part L_task of a [`Loss`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum TaskLoss<'a, T> {
    /// Masked mean squared error (docs/model.md section 2):
    /// L = (1/B) sum_b sum_{t=1..T} h/2 sum_k m_{t,k} (o_{t,k} - ohat_{t,k})^2.
    Mse {
        /// Targets ohat_1 .. ohat_T, (T, B, n_out): index t holds step t + 1.
        target: &'a [T],
        /// Mask m_1 .. m_T in [0, 1], (T, B, n_out).
        mask: &'a [T],
    },
    /// Cross-entropy of the readout averaged over the window of steps (from, to]:
    /// z_b = (1/K) sum_{t=from+1..to} o_t with K = to - from, and
    /// `L = (1/B) sum_b -log softmax(z_b)[y_b]`.
    CrossEntropy {
        /// Class y_b of every trial, (B), each in 0..n_out.
        labels: &'a [usize],
        /// The window starts after this step (0 <= from_step < to_step).
        from_step: usize,
        /// The window's last step (to_step <= T).
        to_step: usize,
    },
    /// L = sum_t sum_b G_t . o_t: backward from the caller's own dL/do = G.
    Linear {
        /// G_1 .. G_T, (T, B, n_out): index t holds step t + 1.
        g: &'a [T],
    },
}

/// L = L_task + lambda R (docs/model.md section 6), where R is the mean firing rate:
/// the mean of s_t over trials, neurons and t = 1..T (each spike deposits unit charge).
///
/// ```
/// use spikegrad::Loss;
/// let (target, mask) = (vec![0.5f64; 10], vec![1.0; 10]);
/// let mse = Loss::mse(&target, &mask).with_rate_penalty(0.1);
/// let classes = Loss::<f64>::cross_entropy(&[1, 0], 5, 10);
/// # let _ = (mse, classes);
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Loss<'a, T> {
    /// L_task.
    pub task: TaskLoss<'a, T>,
    /// lambda >= 0, the weight of the rate penalty.
    pub rate_penalty: f64,
}

impl<'a, T> Loss<'a, T> {
    /// Masked mean squared error against `target` with `mask` (both (T, B, n_out)):
    /// L_task = sum_t,b,k m (o - y)^2 / (2 sum m) of docs/model.md section 6. Checked
    /// when a sweep runs ([`Loss::check`] checks before).
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Loss;
    /// let (t, b, n_out) = (100, 2, 1);
    /// let target = vec![0.5f32; t * b * n_out];
    /// // Only the last 20 steps are scored.
    /// let mask: Vec<f32> = (0..t * b * n_out).map(|i| if i >= 80 * b { 1.0 } else { 0.0 }).collect();
    /// let loss = Loss::mse(&target, &mask);
    /// assert_eq!(loss.rate_penalty, 0.0);
    /// ```
    pub fn mse(target: &'a [T], mask: &'a [T]) -> Self {
        Loss { task: TaskLoss::Mse { target, mask }, rate_penalty: 0.0 }
    }

    /// Cross-entropy of the readout averaged over steps from_step + 1 ..= to_step,
    /// against one class label per trial (docs/model.md section 6). Checked when a sweep
    /// runs: labels below n_out, a window inside 1..=T.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Loss;
    /// // Two trials, labelled 2 and 0, scored on steps 101..=150.
    /// let loss = Loss::<f64>::cross_entropy(&[2, 0], 100, 150);
    /// # let _ = loss;
    /// ```
    pub fn cross_entropy(labels: &'a [usize], from_step: usize, to_step: usize) -> Self {
        Loss { task: TaskLoss::CrossEntropy { labels, from_step, to_step }, rate_penalty: 0.0 }
    }

    /// The linear loss sum_t G_t . o_t, whose readout gradient is `g` itself (T, B,
    /// n_out): a loss computed elsewhere enters through its dL/do (as
    /// [`Workspace::backward`](crate::Workspace::backward) does, without a recorded run).
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Loss;
    /// let dl_do = vec![0.01f32; 100];
    /// let loss = Loss::linear(&dl_do);
    /// # let _ = loss;
    /// ```
    pub fn linear(g: &'a [T]) -> Self {
        Loss { task: TaskLoss::Linear { g }, rate_penalty: 0.0 }
    }

    /// The same loss plus `lambda` times the mean firing rate R (docs/model.md section
    /// 6); `lambda` must be finite and >= 0 (checked when a sweep runs).
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Loss;
    /// let loss = Loss::<f64>::cross_entropy(&[1], 50, 100).with_rate_penalty(0.01);
    /// assert_eq!(loss.rate_penalty, 0.01);
    /// ```
    pub fn with_rate_penalty(self, lambda: f64) -> Self {
        Loss { rate_penalty: lambda, ..self }
    }
}

impl<T: Real> Loss<'_, T> {
    /// Checks that `net`, `batch` and this loss fit together and are valid input
    /// (docs/model.md sections 4 and 6: shapes, finite values, a mask in [0, 1], labels
    /// among the readout channels, a window inside 1..=T, a rate penalty >= 0), with the
    /// errors the sweeps would return.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`], [`Error::NonFiniteInput`], [`Error::MaskOutOfRange`],
    /// [`Error::LabelOutOfRange`], [`Error::InvalidLoss`], naming the array and index.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Error, Inputs, Loss, Network, Parameters};
    /// let (w, u, i0, o) = ([0.0f64; 4], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0, 1.0, 1.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 2, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![0.0; 10];
    /// let batch = Batch::new(Inputs { b: 1, t: 10, v0: &[0.0; 2], s0: &[0.0; 2], x: &x });
    /// let error = Loss::cross_entropy(&[2], 0, 10).check(&net, &batch).unwrap_err();
    /// assert!(matches!(error, Error::LabelOutOfRange { label: 2, .. }));
    /// ```
    pub fn check(&self, net: &Network<'_, T>, batch: &Batch<'_, T>) -> Result<(), Error> {
        self.validate(validate(net, batch)?)
    }

    /// Checks the loss's arrays and settings against the problem's dimensions.
    pub(crate) fn validate(&self, dims: Dims) -> Result<(), Error> {
        let Dims { n_out, b, t, .. } = dims;
        let readout_shape = || format!("(T, B, n_out) = ({t}, {b}, {n_out})");
        let readout_len = product(&[t, b, n_out]);
        if !(self.rate_penalty.is_finite() && self.rate_penalty >= 0.0) {
            return Err(Error::InvalidLoss {
                field: "rate_penalty",
                value: self.rate_penalty,
                rule: "must be finite and >= 0".into(),
            });
        }
        match self.task {
            TaskLoss::Mse { target, mask } => {
                check_array("target", target, readout_shape, readout_len)?;
                check_array("mask", mask, readout_shape, readout_len)?;
                let (zero, one) = (T::from_f64(0.0), T::from_f64(1.0));
                if let Some(index) = mask.iter().position(|&m| !(m >= zero && m <= one)) {
                    return Err(Error::MaskOutOfRange { index, value: mask[index].to_f64() });
                }
            }
            TaskLoss::CrossEntropy { labels, from_step, to_step } => {
                if labels.len() != b {
                    return Err(Error::ShapeMismatch {
                        array: "labels",
                        expected: format!("(B) = ({b})"),
                        expected_len: b,
                        got_len: labels.len(),
                    });
                }
                if n_out < 2 {
                    return Err(Error::InvalidLoss {
                        field: "n_out",
                        value: n_out as f64,
                        rule: "cross-entropy needs at least 2 readout channels (classes)".into(),
                    });
                }
                if let Some(trial) = labels.iter().position(|&y| y >= n_out) {
                    let label = labels[trial];
                    return Err(Error::LabelOutOfRange { trial, label, classes: n_out });
                }
                if to_step > t || to_step == 0 {
                    return Err(Error::InvalidLoss {
                        field: "to_step",
                        value: to_step as f64,
                        rule: format!("the window's last step must lie in 1..={t} (T)"),
                    });
                }
                if from_step >= to_step {
                    return Err(Error::InvalidLoss {
                        field: "from_step",
                        value: from_step as f64,
                        rule: format!(
                            "the window (from_step, to_step] must hold a step: from_step < to_step = {to_step}"
                        ),
                    });
                }
            }
            TaskLoss::Linear { g } => check_array("G", g, readout_shape, readout_len)?,
        }
        Ok(())
    }

    /// dL/ds_t for every entry, t = 1..T: lambda / (B N T) from the rate penalty, or
    /// `None` without one.
    pub(crate) fn uniform_state_gradient(&self, dims: Dims) -> Option<f64> {
        (self.rate_penalty > 0.0)
            .then(|| self.rate_penalty / (dims.b as f64 * dims.n as f64 * dims.t as f64))
    }

    /// The loss of a run whose readouts o_1 .. o_T are `readout` (T, B, n_out) and whose
    /// states sum to `charge` = sum over t = 1..T, trials and neurons of s_t; writes
    /// dL/do_t into `readout_gradient` (same layout). Sums in f64, in the reference's
    /// order (the rate penalty as lambda / (B N T) times the summed charge, where the
    /// reference adds each entry's share). A loss that overflows is an error naming its
    /// step, trial and channel.
    pub(crate) fn evaluate(
        &self,
        h: f64,
        dims: Dims,
        readout: &[T],
        charge: f64,
        readout_gradient: &mut [T],
    ) -> Result<f64, Error> {
        let Dims { n_out, b, .. } = dims;
        let trials = b as f64;
        let overflow = |index: usize| Error::NonFiniteLoss {
            step: index / (n_out * b) + 1,
            trial: (index / n_out) % b,
            channel: index % n_out,
        };
        let mut loss = 0.0f64;
        match self.task {
            TaskLoss::Mse { target, mask } => {
                let terms = readout.iter().zip(target).zip(mask).zip(readout_gradient.iter_mut());
                for (index, (((&o, &target), &mask), r)) in terms.enumerate() {
                    let (error, mask) = (o.to_f64() - target.to_f64(), mask.to_f64());
                    loss += h * 0.5 * mask * error * error / trials;
                    if !loss.is_finite() {
                        return Err(overflow(index));
                    }
                    *r = T::from_f64(h / trials * mask * error);
                }
            }
            TaskLoss::CrossEntropy { labels, from_step, to_step } => {
                readout_gradient.fill(T::from_f64(0.0));
                let k = (to_step - from_step) as f64;
                let at = |step: usize, trial: usize, channel: usize| {
                    (step * b + trial) * n_out + channel
                };
                for (trial, &label) in labels.iter().enumerate() {
                    // z_b = (1/K) sum over the window of o_t, summed in f64 where it is
                    // needed (a few times per channel: cheaper than a buffer, and
                    // evaluating allocates nothing).
                    let z = |channel: usize| {
                        let sum: f64 = (from_step..to_step)
                            .map(|step| readout[at(step, trial, channel)].to_f64())
                            .sum();
                        sum / k
                    };
                    let best = (0..n_out).max_by(|&i, &j| z(i).total_cmp(&z(j))).unwrap_or(0);
                    let top = z(best);
                    // log-sum-exp around the largest score, so no exponential overflows;
                    // log(1 + others) by ln_1p, so that a confident classifier's loss
                    // (others ~ 1e-7) keeps its digits instead of rounding 1 + others.
                    let others: f64 =
                        (0..n_out).filter(|&c| c != best).map(|c| (z(c) - top).exp()).sum();
                    let total = 1.0 + others;
                    loss += ((top - z(label)) + others.ln_1p()) / trials;
                    if !loss.is_finite() {
                        return Err(overflow(at(to_step - 1, trial, label)));
                    }
                    for channel in 0..n_out {
                        let softmax = (z(channel) - top).exp() / total;
                        let onehot = if channel == label { 1.0 } else { 0.0 };
                        let r = T::from_f64((softmax - onehot) / (trials * k));
                        for step in from_step..to_step {
                            readout_gradient[at(step, trial, channel)] = r;
                        }
                    }
                }
            }
            TaskLoss::Linear { g } => {
                for (index, (&o, &gk)) in readout.iter().zip(g).enumerate() {
                    loss += gk.to_f64() * o.to_f64();
                    if !loss.is_finite() {
                        return Err(overflow(index));
                    }
                }
                readout_gradient.copy_from_slice(g);
            }
        }
        if let Some(per_entry) = self.uniform_state_gradient(dims) {
            loss += per_entry * charge;
            if !loss.is_finite() {
                return Err(overflow(readout.len() - 1));
            }
        }
        Ok(loss)
    }
}
