//! Square transposes in tiles, so that both the rows read and the rows written stay in
//! cache: the naive loop writes with a stride of N, and at N = 2048 (the `A2` benchmark)
//! one transpose cost a large part of the sparse gradient's forward sweep
//! (docs/benchmarks.md, "Thresholds").

use crate::real::Real;

/// Source rows per tile. Rows N apart map to the same L1 set when N is a power of two
/// (a 2048 x 2048 f32 array's rows are 8 KB apart), and an L1 set holds 8-12 lines: a
/// tile's 8 source rows stay in it.
const TILE_ROWS: usize = 8;

/// Source columns (destination rows) per tile: 64 f32 values are four cache lines of
/// each source row, read on one visit of its page (8 x 8 tiles touch a new page every
/// 32 bytes read; the profile put the 8 x 8 version's strided loads at the top, the
/// difference in A2's total time stayed within the machine's noise).
const TILE_COLUMNS: usize = 64;

/// dst = src^T for row-major n x n arrays.
pub(crate) fn transpose<T: Real>(src: &[T], dst: &mut [T], n: usize) {
    tiles(n, |i, j| dst[j * n + i] = src[i * n + j]);
}

/// dst += src^T for row-major n x n arrays.
pub(crate) fn add_transposed<T: Real>(src: &[T], dst: &mut [T], n: usize) {
    tiles(n, |i, j| dst[j * n + i] += src[i * n + j]);
}

/// Calls `visit(i, j)` for every (i, j) in 0..n x 0..n, tile by tile: bands of
/// TILE_COLUMNS destination rows, each filled left to right in tiles of TILE_ROWS source
/// rows.
#[inline(always)]
fn tiles(n: usize, mut visit: impl FnMut(usize, usize)) {
    for j0 in (0..n).step_by(TILE_COLUMNS) {
        for i0 in (0..n).step_by(TILE_ROWS) {
            for j in j0..(j0 + TILE_COLUMNS).min(n) {
                for i in i0..(i0 + TILE_ROWS).min(n) {
                    visit(i, j);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_every_size_around_the_tile() {
        for n in [0, 1, 5, 8, 9, 63, 64, 65, 130] {
            let src: Vec<f64> = (0..n * n).map(|x| x as f64).collect();
            let mut dst = vec![0.0; n * n];
            transpose(&src, &mut dst, n);
            add_transposed(&src, &mut dst, n);
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(dst[j * n + i], 2.0 * src[i * n + j]);
                }
            }
        }
    }
}
