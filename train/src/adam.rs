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

impl Clip {
    /// The names [`Clip::from_name`] reads: "none", "global", "per_parameter".
    pub const NAMES: [&'static str; 3] = ["none", "global", "per_parameter"];

    /// "none", "global" or "per_parameter".
    pub fn name(self) -> &'static str {
        match self {
            Clip::None => "none",
            Clip::GlobalNorm(_) => "global",
            Clip::PerParameter(_) => "per_parameter",
        }
    }

    /// The norm clipped to (`None` without clipping).
    pub fn norm(self) -> Option<f64> {
        match self {
            Clip::None => None,
            Clip::GlobalNorm(c) | Clip::PerParameter(c) => Some(c),
        }
    }

    /// The clipping named `name` (one of [`Clip::NAMES`], `-` and `_` alike) to `norm`.
    pub fn from_name(name: &str, norm: f64) -> Option<Clip> {
        match name.replace('-', "_").as_str() {
            "none" => Some(Clip::None),
            "global" => Some(Clip::GlobalNorm(norm)),
            "per_parameter" => Some(Clip::PerParameter(norm)),
            _ => None,
        }
    }
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
    /// Adam's step on array k is `learning_rate * step_scales[k]` (1 unless set): the
    /// arrays' natural sizes, so that one rate moves each by the same fraction.
    pub step_scales: Vec<f64>,
    steps: u64,
    first: Vec<Vec<f64>>,
    second: Vec<Vec<f64>>,
}

/// Adam's state after some updates, in the order of the arrays given to [`Adam::new`]:
/// what a checkpoint saves so that a resumed run takes the same steps.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    /// Updates so far.
    pub steps: u64,
    /// First moments, one array per parameter.
    pub first: Vec<Vec<f64>>,
    /// Second moments, one array per parameter.
    pub second: Vec<Vec<f64>>,
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
            step_scales: vec![1.0; lengths.len()],
            steps: 0,
            first: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            second: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// Updates after this many steps.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// A copy of the moments and the step count.
    pub fn state(&self) -> AdamState {
        AdamState { steps: self.steps, first: self.first.clone(), second: self.second.clone() }
    }

    /// Continues from `state`; an error naming the array whose length differs from this
    /// optimiser's (a state saved for another model), or a moment that is not finite or
    /// a negative second moment, and then nothing changes.
    pub fn restore(&mut self, state: AdamState) -> Result<(), String> {
        let slots = self.first.len();
        if state.first.len() != slots || state.second.len() != slots {
            return Err(format!(
                "holds moments of {} and {} arrays, expected {slots}",
                state.first.len(),
                state.second.len()
            ));
        }
        for (k, (first, second)) in state.first.iter().zip(&state.second).enumerate() {
            let expected = self.first[k].len();
            if first.len() != expected || second.len() != expected {
                return Err(format!(
                    "moments of array {k} have {} and {} elements, expected {expected}",
                    first.len(),
                    second.len()
                ));
            }
            if let Some(i) = first.iter().position(|m| !m.is_finite()) {
                return Err(format!("first moment {i} of array {k} is {}", first[i]));
            }
            if let Some(i) = second.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(format!(
                    "second moment {i} of array {k} is {}: must be finite and >= 0",
                    second[i]
                ));
            }
        }
        self.steps = state.steps;
        self.first = state.first;
        self.second = state.second;
        Ok(())
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
            let rate = self.learning_rate * self.step_scales.get(k).copied().unwrap_or(1.0);
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
                let step = rate * (*m / c1) / ((*v / c2).sqrt() + self.epsilon);
                *p = (*p as f64 - step) as f32;
            }
        }
        global
    }
}
