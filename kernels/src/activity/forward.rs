//! The activity-sparse forward sweep: y_t = W s_t carried by the increments q_t at the
//! active pairs (docs/model.md section 8).

use super::disjoint::Disjoint;
use super::parts::{constants_of, earliest, flush, run_parts, Part};
use super::{Activity, Slots, SweepPath, PROBE_STEPS};
use crate::error::Error;
use crate::gemm::StepProduct;
use crate::neuron::Neuron;
use crate::real::Real;
use crate::simd::PerNeuronConstants;
use crate::step::Step;
use crate::workspace::{fit, zeroed};
use crate::Backend;

impl<T: Real> Activity<T> {
    /// Starts a forward sweep from s_0: sparse from the first step when the path says
    /// so (y_0 = W s_0 per group), dense otherwise.
    pub fn start_forward(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        s0: &[T],
    ) -> Result<(), Error> {
        self.forward_sparse = false;
        (self.measuring, self.probe_active, self.probes) = (true, 0, 0);
        if self.effective_path() == SweepPath::ActivitySparse {
            self.dense_y(backend, recurrent, s0)?;
            self.forward_sparse = true;
        }
        Ok(())
    }

    /// y = W s per group, (B, G, N), by dense products (when the forward sweep turns
    /// sparse).
    fn dense_y(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        s: &[T],
    ) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        zeroed(&mut self.y, groups * nb)?;
        if s.iter().all(|&x| x == T::from_f64(0.0)) {
            return Ok(());
        }
        if groups == 1 {
            recurrent.add(backend, s, &mut self.y);
            return Ok(());
        }
        fit(&mut self.masked, nb)?;
        zeroed(&mut self.masked_product, nb)?;
        for group in 0..groups {
            for (index, (m, &x)) in self.masked.iter_mut().zip(s).enumerate() {
                let inside = self.group_of[index % n] as usize == group;
                *m = if inside { x } else { T::from_f64(0.0) };
            }
            self.masked_product.fill(T::from_f64(0.0));
            recurrent.add(backend, &self.masked, &mut self.masked_product);
            for (trial, product) in self.masked_product.chunks_exact(n).enumerate() {
                self.y[(trial * groups + group) * n..][..n].copy_from_slice(product);
            }
        }
        Ok(())
    }

    /// Sparse forward steps `steps` (a segment), every part in parallel over its own
    /// trials, each step: I_t = current + the sum of the groups' y_t, the step kernel
    /// into v_{t+1}, s_{t+1}, then y_{t+1} = gamma y_t + W q_t (`rows` = W^T). States
    /// and currents are in `v`, `s`, `current` as `slots` says. Then, on the automatic
    /// path, back to dense where the segment's activity no longer pays. `Err(t)`: the
    /// first step whose new state is not finite.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_segment<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        rows: &[T],
        (v, s, current): (&mut [T], &mut [T], &mut [T]),
        slots: Slots,
        steps: core::ops::Range<usize>,
    ) -> Result<(), usize> {
        let mut parts = core::mem::take(&mut self.parts);
        let mut y = core::mem::take(&mut self.y);
        let shared = self.shared(step.backend(), rows);
        let (n, nb, groups) = (self.n, self.nb, shared.groups);
        let (v, s, current, y_all) =
            (Disjoint::new(v), Disjoint::new(s), Disjoint::new(current), Disjoint::new(&mut y));
        let work = |index: usize, part: &mut Part<T>| -> (Option<usize>, usize, usize) {
            let (start, len) = self.trials_of(index);
            let per_neuron = constants_of(per_neuron, start, len);
            // SAFETY: (and of every `slice` below) part `index` touches only its own trials'
            // range [start, start + len) of each step's slot (and of y), which no other
            // part touches; the slots of t and t + 1 differ.
            let y = unsafe { y_all.slice(start * groups, len * groups) };
            let (mut active, mut probed) = (0, 0);
            for t in steps.clone() {
                let (now, next) = (slots.state(t) * nb + start, slots.state(t + 1) * nb + start);
                // SAFETY: this part's trials of slot t (read) and of slot t + 1 (written),
                // different slots.
                let (v_now, s_now) = unsafe { (&*v.slice(now, len), &*s.slice(now, len)) };
                // SAFETY: as above.
                let (v_next, s_next) = unsafe { (v.slice(next, len), s.slice(next, len)) };
                // SAFETY: this part's trials of step t's current.
                let current = unsafe { current.slice(slots.current(t) * nb + start, len) };
                // I_t = current + y_t, and y <- gamma y_t in the same pass (the increments
                // W q_t are added after the kernel).
                let trials = current.chunks_exact_mut(n).zip(y.chunks_exact_mut(groups * n));
                for (current, y) in trials {
                    for (y, &gamma) in y.chunks_exact_mut(n).zip(shared.group_decay) {
                        for (c, y) in current.iter_mut().zip(y) {
                            *c += *y;
                            *y = flush(gamma * *y);
                        }
                    }
                }
                if !step.forward_unchecked(per_neuron, v_now, s_now, current, v_next, s_next) {
                    return (Some(t), active, probed);
                }
                let count = shared.scan(part, v_now);
                active += count;
                if t % PROBE_STEPS == 0 {
                    probed += count;
                }
                shared.collect_pairs(part, s_now, s_next);
                shared.scatter(part, y);
            }
            (None, active, probed)
        };
        let (failed, active, probed) = run_parts(&mut parts, 0, self.par(), &work, &earliest);
        (self.parts, self.y) = (parts, y);
        let probes = steps.clone().filter(|t| t % PROBE_STEPS == 0).count();
        if self.measuring && probes > 0 {
            (self.probe_active, self.probes) = (self.probe_active + probed, self.probes + probes);
        }
        // Back to dense with a margin (hysteresis), so a borderline activity does not
        // switch every segment.
        let mean = active / steps.len().max(1);
        if self.effective_path() == SweepPath::Automatic && !self.pays(mean / 2) {
            self.forward_sparse = false;
        }
        failed.map_or(Ok(()), Err)
    }

    /// After a dense forward step t (v_t -> s_{t+1}): on the automatic path, every
    /// PROBE_STEPS steps, measure the activity and turn sparse where it pays (y_{t+1}
    /// = W s_{t+1} by dense products).
    pub fn after_dense_step(
        &mut self,
        t: usize,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        v_now: &[T],
        s_next: &[T],
    ) -> Result<(), Error> {
        if self.effective_path() == SweepPath::Automatic && t % PROBE_STEPS == 0 {
            let active = self.count(backend, v_now);
            if self.measuring {
                (self.probe_active, self.probes) = (self.probe_active + active, self.probes + 1);
            }
            if self.pays(active) {
                self.dense_y(backend, recurrent, s_next)?;
                self.forward_sparse = true;
            }
        }
        Ok(())
    }
}
