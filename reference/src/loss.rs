use crate::error::Error;
use crate::network::check_array;

/// The task part of a [`Loss`] (docs/model.md section 6).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskLoss {
    /// L = (1/B) sum_b sum_{t=1..T} h/2 sum_k m_{t,k} (o_{t,k} - ohat_{t,k})^2.
    Mse {
        /// Targets ohat_1 .. ohat_T, (T, B, n_out): index t holds step t + 1.
        target: Vec<f64>,
        /// Mask m_1 .. m_T in [0, 1], (T, B, n_out).
        mask: Vec<f64>,
    },
    /// z_b = (1/K) sum_{t=from+1..to} o_t, `L = (1/B) sum_b -log softmax(z_b)[y_b]`.
    CrossEntropy {
        /// y_b, (B).
        labels: Vec<usize>,
        /// from.
        from_step: usize,
        /// to.
        to_step: usize,
    },
    /// L = sum_t sum_b G_t . o_t.
    Linear {
        /// G_1 .. G_T, (T, B, n_out): index t holds step t + 1.
        g: Vec<f64>,
    },
}

/// L = L_task + lambda R, R the mean of s_t over trials, neurons and t = 1..T.
#[derive(Debug, Clone, PartialEq)]
pub struct Loss {
    /// L_task.
    pub task: TaskLoss,
    /// lambda.
    pub rate_penalty: f64,
}

/// The derivatives of a loss with respect to the run: dL/do_t and dL/ds_t, t = 1..T.
#[derive(Debug, Clone, PartialEq)]
pub struct LossGradient {
    /// L.
    pub loss: f64,
    /// dL/do_t, (T, B, n_out): index t holds step t + 1.
    pub readout: Vec<f64>,
    /// dL/ds_t, (T, B, N): index t holds step t + 1.
    pub state: Vec<f64>,
}

impl Loss {
    /// Checks the loss's arrays and settings for a run of T steps, B trials, N neurons
    /// and n_out readouts.
    pub fn validate(&self, t: usize, b: usize, n_out: usize) -> Result<(), Error> {
        if !(self.rate_penalty.is_finite() && self.rate_penalty >= 0.0) {
            return Err(Error::InvalidLoss {
                field: "rate_penalty",
                value: self.rate_penalty,
                rule: "must be finite and >= 0".into(),
            });
        }
        let shape = format!("(T, B, n_out) = ({t}, {b}, {n_out})");
        let len = t.checked_mul(b).and_then(|tb| tb.checked_mul(n_out));
        match &self.task {
            TaskLoss::Mse { target, mask } => {
                check_array("target", target, shape.clone(), len)?;
                check_array("mask", mask, shape, len)?;
                if let Some(index) = mask.iter().position(|m| !(0.0..=1.0).contains(m)) {
                    return Err(Error::MaskOutOfRange { index, value: mask[index] });
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
                if *to_step > t || *to_step == 0 {
                    return Err(Error::InvalidLoss {
                        field: "to_step",
                        value: *to_step as f64,
                        rule: format!("the window's last step must lie in 1..={t} (T)"),
                    });
                }
                if from_step >= to_step {
                    return Err(Error::InvalidLoss {
                        field: "from_step",
                        value: *from_step as f64,
                        rule: format!(
                            "the window (from_step, to_step] must hold a step: from_step < to_step = {to_step}"
                        ),
                    });
                }
            }
            TaskLoss::Linear { g } => check_array("G", g, shape, len)?,
        }
        Ok(())
    }

    /// L and its derivatives for a run of `b` trials with readouts `o[t]` = o_{t+1}
    /// (each (B, n_out)) and states `s[t]` = s_t (each (B, N), t = 0..=T), step `h`.
    pub fn evaluate(
        &self,
        h: f64,
        b: usize,
        o: &[Vec<f64>],
        s: &[Vec<f64>],
    ) -> Result<LossGradient, Error> {
        let t_steps = o.len();
        let nb = s[0].len();
        let n_out = o[0].len() / b;
        let n = nb / b;
        let mut loss = 0.0;
        let mut readout = vec![0.0; t_steps * b * n_out];
        let overflow = |t: usize, trial: usize, channel: usize| Error::NonFiniteLoss {
            step: t + 1,
            trial,
            channel,
        };
        match &self.task {
            TaskLoss::Mse { target, mask } => {
                for t in 0..t_steps {
                    for trial in 0..b {
                        for k in 0..n_out {
                            let at = (t * b + trial) * n_out + k;
                            let r = o[t][trial * n_out + k] - target[at];
                            loss += h * 0.5 * mask[at] * r * r / b as f64;
                            if !loss.is_finite() {
                                return Err(overflow(t, trial, k));
                            }
                            readout[at] = h / b as f64 * mask[at] * r;
                        }
                    }
                }
            }
            TaskLoss::CrossEntropy { labels, from_step, to_step } => {
                let window = (*from_step, *to_step);
                loss = cross_entropy(labels, window, o, (b, n_out), &mut readout)
                    .map_err(|trial| overflow(to_step - 1, trial, labels[trial]))?;
            }
            TaskLoss::Linear { g } => {
                for t in 0..t_steps {
                    for trial in 0..b {
                        for k in 0..n_out {
                            let at = (t * b + trial) * n_out + k;
                            loss += g[at] * o[t][trial * n_out + k];
                            if !loss.is_finite() {
                                return Err(overflow(t, trial, k));
                            }
                            readout[at] = g[at];
                        }
                    }
                }
            }
        }
        // R = (1 / (B N T)) sum_{t=1..T} sum_{b, j} s_t.
        let per_entry = self.rate_penalty / (b * n * t_steps) as f64;
        let mut state = vec![0.0; t_steps * nb];
        if self.rate_penalty > 0.0 {
            for t in 1..=t_steps {
                for idx in 0..nb {
                    loss += per_entry * s[t][idx];
                    state[(t - 1) * nb + idx] = per_entry;
                }
            }
            if !loss.is_finite() {
                return Err(overflow(t_steps - 1, b - 1, n_out - 1));
            }
        }
        Ok(LossGradient { loss, readout, state })
    }
}

/// The cross-entropy of docs/model.md section 6 over the B trials with `labels`, each readout
/// averaged over steps from + 1 ..= to (index t holds step t + 1): the mean over trials
/// of -log softmax(z)[y], with its dL/do_t written into `readout` (T, B, n_out). An
/// error names the first trial whose loss is not finite.
fn cross_entropy(
    labels: &[usize],
    (from_step, to_step): (usize, usize),
    o: &[Vec<f64>],
    (b, n_out): (usize, usize),
    readout: &mut [f64],
) -> Result<f64, usize> {
    let window = (to_step - from_step) as f64;
    let mut loss = 0.0;
    for (trial, &label) in labels.iter().enumerate() {
        let mut z = vec![0.0; n_out];
        for t in from_step..to_step {
            for k in 0..n_out {
                z[k] += o[t][trial * n_out + k];
            }
        }
        for zk in z.iter_mut() {
            *zk /= window;
        }
        // -log softmax(z)[y] = (max z - z_y) + log(1 + sum of the others'
        // exp(z_k - max z)), the log by ln_1p so that a confident loss
        // (the others ~ 1e-7) keeps its digits.
        let mut best = 0;
        for k in 1..n_out {
            if z[k] > z[best] {
                best = k;
            }
        }
        let top = z[best];
        let mut others = 0.0;
        for k in 0..n_out {
            if k != best {
                others += (z[k] - top).exp();
            }
        }
        let total = 1.0 + others;
        loss += ((top - z[label]) + others.ln_1p()) / b as f64;
        if !loss.is_finite() {
            return Err(trial);
        }
        for k in 0..n_out {
            let softmax = (z[k] - top).exp() / total;
            let onehot = if k == label { 1.0 } else { 0.0 };
            for t in from_step..to_step {
                readout[(t * b + trial) * n_out + k] = (softmax - onehot) / (b as f64 * window);
            }
        }
    }
    Ok(loss)
}
