//! One buffer written by the parallel parts of a sparse step at disjoint ranges: the
//! only unsafe type of the sweeps, kept alone. Every unsafe block of the activity
//! module carries its argument (`clippy::undocumented_unsafe_blocks` is denied there).
/// A buffer that the parts of a parallel region read and write at disjoint ranges
/// only: each part touches its own trials' values of every step, so no two parts' slices
/// overlap. (Safe code cannot split a (steps, B, N) buffer into per-trial pieces of every
/// step without allocating a list of them; this is that split, by offsets.)
#[derive(Clone, Copy)]
pub(super) struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _buffer: core::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: a `Disjoint` is a `&mut [T]` handed to several threads that each access a
// range no other accesses (the contract of `Disjoint::slice`); `T: Send` as for
// `&mut [T]`.
unsafe impl<T: Send> Send for Disjoint<'_, T> {}
// SAFETY: as above: shared between the parts, which access disjoint ranges.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    pub(super) fn new(buffer: &'a mut [T]) -> Self {
        Disjoint { ptr: buffer.as_mut_ptr(), len: buffer.len(), _buffer: core::marker::PhantomData }
    }

    /// The `len` values from `start`.
    ///
    /// # Safety
    /// No other slice of the same buffer that overlaps this one may be alive while
    /// this one is (the parts of a region use their own trials' ranges only).
    #[allow(clippy::mut_from_ref)]
    pub(super) unsafe fn slice(&self, start: usize, len: usize) -> &'a mut [T] {
        assert!(start <= self.len && len <= self.len - start, "range within the buffer");
        // SAFETY: in bounds (asserted), and not aliased (the caller's contract).
        unsafe { core::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}
