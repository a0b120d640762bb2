//! spikegrad kernels (filled by the kernels issue).
