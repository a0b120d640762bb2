//! A training loop allocates nothing after its first iteration (the `Workspace`
//! promise): once its buffers have grown to a problem's size, the forward run, the loss,
//! the gradient of every built-in loss (with a mask, an external current, per-neuron time
//! constants, dL/dx, dL/dI_ext and the constants' gradients) and `backward` from the caller's dL/do make no heap allocation, counted by
//! a global allocator. One thread, so the count is not the thread pool's.

use spikegrad::{
    Batch, Config, Gate, GradientOptions, Inputs, Loss, Network, Parameters, Record, Step,
    Workspace,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts the calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, that is from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(run: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    run();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

#[test]
fn the_second_iteration_allocates_nothing() {
    // Sizes on both sides of the products' row-kernel threshold (B <= 2 at N 24).
    for (n, b) in [(24, 1), (40, 5)] {
        let (n_in, n_out, t) = (2, 3, 120);
        let wave = |len: usize, scale: f64| -> Vec<f64> {
            (0..len).map(|i| ((i as f64 * 0.618034).fract() * 2.0 - 1.0) * scale).collect()
        };
        let (w, u, i0, o) =
            (wave(n * n, 10.0), wave(n * n_in, 1.0), wave(n, 0.5), wave(n_out * n, 20.0));
        let mask: Vec<f64> = (0..n * n).map(|k| (k % 3 != 0) as u8 as f64).collect();
        let (v0, s0, x, i_ext) =
            (wave(b * n, 0.9), vec![0.0; b * n], wave(t * b * n_in, 1.0), wave(t * b * n, 0.2));
        let (target, weights) = (wave(t * b * n_out, 1.0), vec![1.0; t * b * n_out]);
        let labels: Vec<usize> = (0..b).map(|k| k % n_out).collect();
        let step =
            Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))
                .unwrap();
        let tau: Vec<f64> = (0..n).map(|j| 20.0 + j as f64).collect();
        let tau_s: Vec<f64> = (0..n).map(|j| 50.0 + 2.0 * j as f64).collect();
        let net = Network::new(Parameters { n, n_in, n_out, w: &w, u: &u, i0: &i0, o: &o })
            .with_mask(&mask)
            .with_tau(&tau)
            .with_tau_s(&tau_s);
        let batch =
            Batch::new(Inputs { b, t, v0: &v0, s0: &s0, x: &x }).with_external_current(&i_ext);
        let losses = [
            Loss::mse(&target, &weights).with_rate_penalty(0.1),
            Loss::cross_entropy(&labels, 60, 120),
            Loss::linear(&target),
        ];
        let mut workspace = Workspace::with_threads(1);
        let options = GradientOptions::default().with_input(true).with_current(true);
        let options = options.with_constants(true);
        let iteration = |workspace: &mut Workspace<f64>| {
            for loss in &losses {
                workspace.loss(&step, &net, &batch, loss).unwrap();
                workspace.gradient_with_options(&step, &net, &batch, loss, options).unwrap();
            }
            workspace.forward(&step, &net, &batch, Record::Trajectory).unwrap();
            workspace.backward(&step, &net, &batch, &target, Some(&i_ext), options).unwrap();
        };
        iteration(&mut workspace);
        let count = allocations_in(|| iteration(&mut workspace));
        assert_eq!(count, 0, "N {n}, B {b}: {count} allocations in the second iteration");
    }
}
