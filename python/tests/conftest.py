"""Shared helpers: random cases of every loss, and case folders on disk for the command
line, so that the module's results are compared with `spikegrad grad`'s (the binary
python/run-tests builds, with the reference crate as its second engine)."""

import json
import os
import subprocess

import numpy as np
import pytest

# Fixed seeds: the suite draws the same cases on every run.
SEED = 20261130

# The command line compared with: $SPIKEGRAD_BIN, else this checkout's release build.
BINARY = os.environ.get(
    "SPIKEGRAD_BIN",
    os.path.join(os.path.dirname(__file__), "..", "..", "target", "release", "spikegrad"),
)


def command_line(*args):
    """Runs the `spikegrad` binary with `args`: its summary line, or ValueError with its
    error line (without "error: ")."""
    if not os.path.exists(BINARY):
        pytest.fail(f"{BINARY}: no spikegrad binary (cargo build --release -p spikegrad-cli)")
    done = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        line = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
        raise ValueError(line.removeprefix("error: "))
    return done.stdout.strip()


def random_case(rng, *, loss="mse", n=7, n_in=2, n_out=3, b=3, t=60, shared_state=False,
                per_neuron=False, w_mask=False, i_ext=False, gate="raised_cosine",
                neuron=None, rate_penalty=0.0):
    """A small, valid case: (arrays, config), arrays in float64."""
    arrays = dict(
        W=rng.normal(0, 1.5, size=(n, n)),
        U=rng.normal(0, 1.5, size=(n, n_in)),
        I0=rng.normal(0.1, 0.5, size=n),
        O=rng.normal(0, 1, size=(n_out, n)),
        v0=rng.uniform(-1, 1, size=(n,) if shared_state else (b, n)),
        s0=rng.uniform(0, 0.1, size=(n,) if shared_state else (b, n)),
        x=rng.normal(0, 1, size=(t, b, n_in)),
    )
    config = dict(h=1.0, tau=20.0, tau_s=30.0, gate=gate, delta=1.0)
    if neuron:
        config["neuron"] = neuron
    spec = dict(kind=loss, rate_penalty=rate_penalty)
    if loss == "mse":
        arrays["target"] = rng.normal(size=(t, b, n_out))
        arrays["mask"] = rng.uniform(0, 1, size=(t, b, n_out))
    elif loss == "linear":
        arrays["G"] = rng.normal(size=(t, b, n_out))
    else:
        arrays["labels"] = rng.integers(0, n_out, size=b)
        spec.update(from_step=t // 2, to_step=t)
    config["loss"] = spec
    if per_neuron:
        arrays["tau"] = rng.uniform(15, 25, size=n)
        arrays["tau_s"] = rng.uniform(20, 40, size=n)
        config["tau"], config["tau_s"] = "tau.npy", "tau_s.npy"
    if w_mask:
        arrays["W_mask"] = (rng.uniform(size=(n, n)) < 0.6).astype(np.float64)
    if i_ext:
        arrays["I_ext"] = rng.normal(0, 0.5, size=(t, b, n))
    return arrays, config


def write_case(folder, arrays, config):
    """The case as a folder of config.json and .npy files."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    for name, value in arrays.items():
        np.save(os.path.join(folder, f"{name}.npy"), value)
    return str(folder)


def read_gradient(folder):
    """What `spikegrad grad` wrote: (loss, {name: array}, dconfig)."""
    with open(os.path.join(folder, "loss.json")) as f:
        loss = json.load(f)["loss"]
    with open(os.path.join(folder, "dconfig.json")) as f:
        dconfig = json.load(f)
    grads = {
        name[:-4]: np.load(os.path.join(folder, name))
        for name in os.listdir(folder)
        if name.endswith(".npy")
    }
    return loss, grads, dconfig


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)
