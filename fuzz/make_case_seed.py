"""Writes seed inputs for the case_folder fuzz target: an engine byte, then config.json
and the .npy files of a small valid case (W U I0 O v0 s0 x target mask labels G W_mask
I_ext tau tau_s, the target's FILES order; an empty part is an absent file), joined by the
target's separator: the plain MSE case, and general ones (cross-entropy with labels,
the linear loss with G, each with a rate penalty, a connectivity mask and an external
current; per-neuron tau and tau_s files with either neuron model). Run:
python3 make_case_seed.py (needs numpy)."""
import io, json, os
import numpy as np

SEPARATOR = b"\n--spikegrad-file--\n"
rng = np.random.default_rng(0)
N, n_in, B, T = 3, 2, 2, 12
os.makedirs("corpus/case_folder", exist_ok=True)


def npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


for kind in ["mse", "cross_entropy", "linear"]:
    n_out = 2 if kind == "cross_entropy" else 1
    for engine, dtype in [(0, np.float64), (1, np.float64), (0, np.float32)]:
        config = dict(h=1.0, tau=20.0, tau_s=50.0, gate="raised_cosine", delta=1.0)
        if kind != "mse":
            config["loss"] = dict(kind=kind, rate_penalty=0.1)
            if kind == "cross_entropy":
                config["loss"].update(from_step=6, to_step=12)
        shapes = dict(W=(N, N), U=(N, n_in), I0=(N,), O=(n_out, N), v0=(B, N), s0=(B, N), x=(T, B, n_in))
        files = [npy(rng.normal(size=shape).astype(dtype)) for shape in shapes.values()]
        general = kind != "mse"
        files += [
            npy(rng.normal(size=(T, B, n_out)).astype(dtype)) if kind == "mse" else b"",
            npy(np.ones((T, B, n_out), dtype)) if kind == "mse" else b"",
            npy(rng.integers(0, n_out, size=B)) if kind == "cross_entropy" else b"",
            npy(rng.normal(size=(T, B, n_out)).astype(dtype)) if kind == "linear" else b"",
            npy((rng.random((N, N)) < 0.7).astype(dtype)) if general else b"",
            npy(rng.normal(size=(T, B, N)).astype(dtype)) if general else b"",
        ]
        name = f"corpus/case_folder/valid-{kind}-{np.dtype(dtype).name}-{'reference' if engine else 'kernels'}"
        open(name, "wb").write(bytes([engine]) + SEPARATOR.join([json.dumps(config).encode()] + files))

# Per-neuron time constants (config.json names tau.npy and tau_s.npy, appended after
# I_ext in FILES order) with either neuron model.
for neuron in ["theta", "hopf_phase"]:
    for engine, dtype in [(0, np.float64), (1, np.float64), (0, np.float32)]:
        config = dict(h=1.0, tau="tau.npy", tau_s="tau_s.npy", gate="raised_cosine", delta=1.0, neuron=neuron)
        shapes = dict(W=(N, N), U=(N, n_in), I0=(N,), O=(1, N), v0=(B, N), s0=(B, N), x=(T, B, n_in))
        files = [npy(rng.normal(size=shape).astype(dtype)) for shape in shapes.values()]
        files += [npy(rng.normal(size=(T, B, 1)).astype(dtype)), npy(np.ones((T, B, 1), dtype))]
        files += [b"", b"", b"", b""]
        files += [npy(rng.uniform(10.0, 30.0, size=N).astype(dtype)), npy(rng.uniform(20.0, 80.0, size=N).astype(dtype))]
        name = f"corpus/case_folder/valid-per-neuron-{neuron}-{np.dtype(dtype).name}-{'reference' if engine else 'kernels'}"
        open(name, "wb").write(bytes([engine]) + SEPARATOR.join([json.dumps(config).encode()] + files))
