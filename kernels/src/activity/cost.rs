//! When the activity-sparse step pays: the cost model the automatic path decides by.

/// Elements (N B) of a step below which a sparse step runs on one thread: a hand-off
/// to the thread pool costs a few microseconds, a step's elementwise work ~1 ns per
/// element.
pub(super) const PARALLEL_MIN_ELEMENTS: usize = 4096;

/// Whether the activity-sparse step is cheaper than the dense one for `active` pairs
/// in the zone, N neurons, B trials and `groups` distinct synaptic decays: N per active
/// pair in column operations, each flop counted as 4 of a GEMM's (a chosen margin: a
/// column operation streams a column of W at memory speed, where a GEMM reuses it from
/// registers; docs/benchmarks.md shows where the choice lands) and two elementwise passes
/// over N B per group, against N^2 B.
pub(crate) fn sparse_pays(n: usize, b: usize, groups: usize, active: usize) -> bool {
    let sparse = 4 * active * n + 2 * groups * n * b;
    sparse < n * n * b
}
