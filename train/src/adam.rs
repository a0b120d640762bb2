//! Adam (Kingma & Ba 2015) with optional gradient-norm clipping, over a list of
//! parameter arrays.

/// How gradients are clipped before the Adam update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Clip {
    /// No clipping. The second moment squares the gradient: beyond |g| ~ 1e154 (an
    /// f64 gradient of a tonically firing network can get there) it overflows and the
    /// step is lost; clip such gradients.
    None,
    /// Scale all gradients together so their joint Euclidean norm is at most this.
    GlobalNorm(f64),
    /// Scale each parameter's gradient separately to norm at most this.
    PerParameter(f64),
}

/// Adam's state for a fixed list of parameter arrays.
#[derive(Debug, Clone)]
pub struct Adam {
    /// Step size.
    pub learning_rate: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator guard.
    pub epsilon: f64,
    /// Clipping applied before each update.
    pub clip: Clip,
    steps: u64,
    first: Vec<Vec<f64>>,
    second: Vec<Vec<f64>>,
}

/// Euclidean norm of a gradient array, scaled so that gradients near f64's largest
/// values (the f64 costates of a tonically firing network can reach them) do not
/// overflow in the sum of squares.
pub fn norm(gradient: &[f64]) -> f64 {
    let largest = gradient.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return largest;
    }
    largest * gradient.iter().map(|&g| (g / largest).powi(2)).sum::<f64>().sqrt()
}

/// A cosine learning-rate decay: `base` at `progress` 0, `base * floor` at 1, half-way
/// between at 0.5. Late, small steps let a run settle into the minimum its noisy early
/// steps found instead of hovering around it.
pub fn cosine_decay(base: f64, floor: f64, progress: f64) -> f64 {
    let p = progress.clamp(0.0, 1.0);
    base * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
}

impl Adam {
    /// Adam with the usual betas (0.9, 0.999) and epsilon 1e-8 for arrays of these lengths.
    pub fn new(learning_rate: f64, clip: Clip, lengths: &[usize]) -> Self {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            clip,
            steps: 0,
            first: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            second: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Updates after this many steps.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update of `parameters` (in the order given to [`Adam::new`]) from `gradients`;
    /// a `None` gradient leaves its parameter frozen. Returns the global gradient norm
    /// before clipping. The caller skips non-finite gradients (see
    /// [`crate::Trainer`]); this function assumes finite input.
    pub fn update(&mut self, parameters: &mut [&mut [f32]], gradients: &[Option<&[f64]>]) -> f64 {
        assert_eq!(parameters.len(), self.first.len(), "one gradient slot per parameter");
        let norms: Vec<f64> = gradients.iter().map(|g| g.map_or(0.0, norm)).collect();
        let global = norm(&norms);
        self.steps += 1;
        let t = self.steps as i32;
        let (c1, c2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        for (k, (parameter, gradient)) in parameters.iter_mut().zip(gradients).enumerate() {
            let Some(gradient) = gradient else { continue };
            let scale = match self.clip {
                Clip::None => 1.0,
                Clip::GlobalNorm(max) => (max / global).min(1.0),
                Clip::PerParameter(max) => (max / norms[k]).min(1.0),
            };
            for ((p, &g), (m, v)) in parameter
                .iter_mut()
                .zip(gradient.iter())
                .zip(self.first[k].iter_mut().zip(&mut self.second[k]))
            {
                let g = g * scale;
                *m = self.beta1 * *m + (1.0 - self.beta1) * g;
                *v = self.beta2 * *v + (1.0 - self.beta2) * g * g;
                let step = self.learning_rate * (*m / c1) / ((*v / c2).sqrt() + self.epsilon);
                *p = (*p as f64 - step) as f32;
            }
        }
        global
    }
}
