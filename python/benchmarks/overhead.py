"""The cost of calling spikegrad from Python: ``spikegrad.gradient`` against the Rust side
alone doing the same work (the checks and the sweeps of ``_native._sweep_seconds``), on
the benchmark configuration S1 of DESIGN.md (N 128, B 1, T 4000; raised-cosine gate of
width 1, mse loss), in one process, interleaved so that both see the same machine.

    python python/benchmarks/overhead.py [--repeats 30] [--precision f32]
"""

import argparse
import json
import time

import numpy as np

import spikegrad
from spikegrad import _native


def s1_case(precision):
    rng = np.random.default_rng(1)
    n, n_in, n_out, b, t = 128, 2, 2, 1, 4000
    dtype = spikegrad.DTYPES[precision]
    arrays = dict(
        W=rng.normal(0, 1 / np.sqrt(n), (n, n)), U=rng.normal(0, 1, (n, n_in)),
        I0=rng.normal(-0.1, 0.5, n), O=rng.normal(0, 1 / np.sqrt(n), (n_out, n)),
        v0=rng.uniform(-1, 1, (b, n)), s0=np.zeros((b, n)), x=rng.normal(0, 1, (t, b, n_in)),
        target=rng.normal(0, 1, (t, b, n_out)), mask=np.ones((t, b, n_out)),
    )
    config = dict(h=1.0, tau=20.0, tau_s=50.0, gate="raised_cosine", delta=1.0)
    return {k: v.astype(dtype) for k, v in arrays.items()}, config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--precision", default="f32", choices=["f32", "f64"])
    args = parser.parse_args()
    arrays, config = s1_case(args.precision)
    text = json.dumps(config)
    spikegrad.gradient(arrays, config, args.precision)  # warm up
    rust, python = [], []
    for _ in range(args.repeats):
        rust += _native._sweep_seconds(arrays, text, args.precision, 1)
        start = time.perf_counter()
        spikegrad.gradient(arrays, config, args.precision)
        python.append(time.perf_counter() - start)
    r, p = np.median(rust), np.median(python)
    print(f"S1 (N 128, B 1, T 4000, {args.precision}), median of {args.repeats}: "
          f"Rust alone {1e3 * r:.3f} ms, spikegrad.gradient {1e3 * p:.3f} ms, "
          f"overhead {100 * (p / r - 1):+.1f}%")


if __name__ == "__main__":
    main()
