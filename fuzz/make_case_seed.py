"""Writes seed inputs for the case_folder fuzz target: an engine byte, then config.json
and the nine .npy files of a small valid case, joined by the target's separator.
Run: python3 make_case_seed.py (needs numpy)."""
import io, json, os
import numpy as np

SEPARATOR = b"\n--spikegrad-file--\n"
rng = np.random.default_rng(0)
N, n_in, n_out, B, T = 3, 2, 1, 2, 12
os.makedirs("corpus/case_folder", exist_ok=True)
for engine, dtype in [(0, np.float64), (1, np.float64), (0, np.float32)]:
    config = json.dumps(dict(h=1.0, tau=20.0, tau_s=50.0, gate="raised_cosine", delta=1.0)).encode()
    shapes = dict(W=(N, N), U=(N, n_in), I0=(N,), O=(n_out, N), v0=(B, N), s0=(B, N), x=(T, B, n_in), target=(T, B, n_out))
    files = []
    for name, shape in shapes.items():
        buf = io.BytesIO(); np.save(buf, rng.normal(size=shape).astype(dtype)); files.append(buf.getvalue())
    buf = io.BytesIO(); np.save(buf, np.ones((T, B, n_out), dtype)); files.append(buf.getvalue())
    name = f"corpus/case_folder/valid-{np.dtype(dtype).name}-{'reference' if engine else 'kernels'}"
    open(name, "wb").write(bytes([engine]) + SEPARATOR.join([config] + files))
