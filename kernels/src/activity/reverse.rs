//! The activity-sparse reverse sweep: E_t, D_t and lam_s at the active pairs, and dL/dW
//! from them (docs/model.md section 8).

use super::disjoint::Disjoint;
use super::parts::{constants_of, flush, latest, run_parts, Part};
use super::Activity;
use crate::error::Error;
use crate::gemm::{col_major, col_major_mut, product, StepProduct};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::simd::active::ActivePair;
use crate::simd::PerNeuronConstants;
use crate::step::Step;
use crate::workspace::{fit, zeroed};
use crate::Backend;
use faer::Accum;

impl<T: Real> Activity<T> {
    /// Starts a sparse reverse sweep: E_T = 0 per group, D_T = `d_last` (= lam_s_T),
    /// every part's dL/dW^T = 0.
    pub fn start_reverse(&mut self, d_last: &[T]) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        zeroed(&mut self.e_sum, groups * nb)?;
        fit(&mut self.d_sum, nb)?;
        self.d_sum.copy_from_slice(d_last);
        for part in &mut self.parts {
            zeroed(&mut part.dw_rows, n * n)?;
        }
        Ok(())
    }

    /// Sparse reverse steps t = end-1 down to `start` (one block), every part in
    /// parallel over its own trials, each step: lam_s_{t+1} = W^T E_{t+1} + D_{t+1} at
    /// the pairs in the zone of v_t (zero elsewhere, where the kernel does not read it)
    /// into `lam_s_next`, E_{t+1} q_t^T into the part's dL/dW^T, the reverse kernel (e_t
    /// into the block's `e`, lam_v_t; its lam_s output in `lam_s` is not used), then
    /// E_t = gamma E_{t+1} + e_t and D_t = gamma D_{t+1} + d_t. `v`, `s`, `current`,
    /// `d` and `e` hold step t at t - start (and `s` s_end after them).
    /// `Err(t)`: the first step (the latest t) with a non-finite kernel output or
    /// lam_s_{t+1}.
    #[allow(clippy::too_many_arguments)]
    pub fn reverse_block<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        per_neuron: Option<PerNeuronConstants<'_, T>>,
        rows: &[T],
        (v, s, current, d): (&[T], &[T], &[T], &[T]),
        (e, lam_s_next, lam_v, lam_s): (&mut [T], &mut [T], &mut [T], &mut [T]),
        steps: core::ops::Range<usize>,
    ) -> Result<(), usize> {
        let mut parts = core::mem::take(&mut self.parts);
        let (mut e_sum, mut d_sum) =
            (core::mem::take(&mut self.e_sum), core::mem::take(&mut self.d_sum));
        let shared = self.shared(step.backend(), rows);
        let (n, nb, groups) = (self.n, self.nb, shared.groups);
        let (e_all, e_sum_all, d_sum_all) =
            (Disjoint::new(e), Disjoint::new(&mut e_sum), Disjoint::new(&mut d_sum));
        let (lam_s_next, lam_v, lam_s) =
            (Disjoint::new(lam_s_next), Disjoint::new(lam_v), Disjoint::new(lam_s));
        let work = |index: usize, part: &mut Part<T>| -> Option<usize> {
            let (start, len) = self.trials_of(index);
            let per_neuron = constants_of(per_neuron, start, len);
            // SAFETY: (and of every `slice` below) part `index` touches only its own trials'
            // range [start, start + len) of each step (and of E, D), which no other part
            // touches.
            let (e_sum, d_sum) = unsafe {
                (e_sum_all.slice(start * groups, len * groups), d_sum_all.slice(start, len))
            };
            // SAFETY: as above, in three distinct buffers.
            let (lam_s_next, lam_v, lam_s) = unsafe {
                (lam_s_next.slice(start, len), lam_v.slice(start, len), lam_s.slice(start, len))
            };
            for t in steps.clone().rev() {
                let j = t - steps.start;
                let (v, current) = (&v[j * nb + start..][..len], &current[j * nb + start..][..len]);
                let (s_now, s_next) =
                    (&s[j * nb + start..][..len], &s[(j + 1) * nb + start..][..len]);
                let d = &d[j * nb + start..][..len];
                // SAFETY: this part's trials of step t's e.
                let e = unsafe { e_all.slice(j * nb + start, len) };
                shared.scan(part, v);
                shared.collect_pairs(part, s_now, s_next);
                shared.gather(part, e_sum, d_sum, lam_s_next);
                let finite =
                    step.reverse_unchecked(per_neuron, v, current, lam_s_next, d, lam_v, e, lam_s);
                if !finite {
                    return Some(t);
                }
                for (index, column) in e_sum.chunks_exact_mut(n).enumerate() {
                    let (trial, group) = (index / groups, index % groups);
                    let gamma = shared.group_decay[group];
                    let e = &e[trial * n..][..n];
                    column.iter_mut().zip(e).for_each(|(sum, &e)| *sum = flush(gamma * *sum + e));
                }
                for (sums, d) in d_sum.chunks_exact_mut(n).zip(d.chunks_exact(n)) {
                    let terms = sums.iter_mut().zip(d).zip(shared.decay);
                    terms.for_each(|((sum, &d), &gamma)| *sum = flush(gamma * *sum + d));
                }
            }
            None
        };
        let failed = run_parts(&mut parts, 0, self.par(), &work, &latest);
        (self.parts, self.e_sum, self.d_sum) = (parts, e_sum, d_sum);
        failed.map_or(Ok(()), Err)
    }

    /// The end of the sparse reverse sweep: lam_s_0 = W^T E_0 + D_0 in full into
    /// `lam_s0`, and dL/dW = E_0 s_0^T + the parts' sum_t E_{t+1} q_t^T into `dw`
    /// (row-major). With one synaptic decay, by products (`recurrent`: y += (W * M)^T x,
    /// the dense reverse sweep's, on at most `threads` threads); with several, column by
    /// column per group.
    #[allow(clippy::too_many_arguments)]
    pub fn finish_reverse(
        &mut self,
        backend: Backend,
        recurrent: &StepProduct<'_, T>,
        threads: usize,
        rows: &[T],
        s0: &[T],
        lam_s0: &mut [T],
        dw: &mut [T],
    ) -> Result<(), Error> {
        let (n, nb, groups) = (self.n, self.nb, self.groups());
        dw.fill(T::from_f64(0.0));
        if groups == 1 {
            for part in &self.parts {
                crate::transpose::add_transposed(&part.dw_rows, dw, n);
            }
            lam_s0.copy_from_slice(&self.d_sum);
            recurrent.add(backend, &self.e_sum, lam_s0);
            if s0.iter().any(|&x| x != T::from_f64(0.0)) {
                // dL/dW^T += s_0 E_0^T (a column-major view of row-major dL/dW is its
                // transpose).
                let b = nb / n.max(1);
                let (s0, e0) = (col_major(s0, n, b), col_major(&self.e_sum, n, b));
                product(threads, col_major_mut(dw, n, n), Accum::Add, s0, e0.transpose());
            }
            return Ok(());
        }
        let mut parts = core::mem::take(&mut self.parts);
        let shared = self.shared(backend, rows);
        for (index, part) in parts.iter_mut().enumerate() {
            let first = index * self.per_part;
            let trials = first..(first + self.per_part).min(nb / n.max(1));
            let range = trials.start * n..trials.end * n;
            part.zone.clear();
            part.zone.extend(0..range.len() as u32);
            part.pairs.clear();
            for local in 0..range.len() {
                let (trial, j) = (local / n, local % n);
                let column = ((trial * groups + self.group_of[j] as usize) * n) as u32;
                let q = s0[range.start + local];
                part.pairs.push(ActivePair { row: j as u32, column, q });
            }
            let e = &self.e_sum[range.start * groups..range.end * groups];
            shared.gather(part, e, &self.d_sum[range.clone()], &mut lam_s0[range]);
            // The part's rows now hold its share of the sum and of E_0 s_0^T.
            crate::transpose::add_transposed(&part.dw_rows, dw, n);
        }
        self.parts = parts;
        Ok(())
    }
}
