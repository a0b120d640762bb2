"""Scores a saved delayed-memory XOR model on fresh trials, independently of the trainer.

The trials are drawn here with numpy from the task's definition (docs/training.md, "Delayed-memory
XOR"), not by the Rust sampler the trainer checks itself with, and the network runs in
f64 (the trainer's checks run in f32). Prints the accuracy overall and per pattern, and
the distribution of sign(target) x (mean readout over [850, 1000) ms): the readout's
margin, which #13 asks to reach a median of at least 0.5.

    python python/examples/score_xor.py runs/xor-1 [--trials 1000] [--seed 7]
"""

import argparse
import json

import numpy as np

import spikegrad

TRIAL_MS, FIRST_PULSE, PULSE_MS = 1000.0, (50.0, 100.0), 50.0
SECOND_PULSE_START, GO_CUE, RESPONSE = (200.0, 600.0), (800.0, 850.0), (850.0, 1000.0)
PATTERNS = [(-1, -1), (-1, 1), (1, -1), (1, 1)]


def draw(h, trials, rng):
    """Inputs x (T, B, 2), the signs (a1, a2) and the response window's steps."""
    steps = int(round(TRIAL_MS / h))
    now = np.arange(steps) * h  # x_t is the input at time t h
    a1 = rng.choice([-1, 1], trials)
    a2 = rng.choice([-1, 1], trials)
    t2 = rng.uniform(*SECOND_PULSE_START, trials)
    x = np.zeros((steps, trials, 2))
    first = (now >= FIRST_PULSE[0]) & (now < FIRST_PULSE[1])
    x[first, :, 0] = a1
    second = (now[:, None] >= t2) & (now[:, None] < t2 + PULSE_MS)  # t2 >= 200: no overlap
    x[:, :, 0] += second * a2
    x[(now >= GO_CUE[0]) & (now < GO_CUE[1]), :, 1] = 1.0
    # The readout o_{t+1} (index t) is the value at time (t + 1) h.
    window = ((now + h) >= RESPONSE[0]) & ((now + h) < RESPONSE[1])
    return x, a1, a2, window


def score(model, trials=1000, seed=7, chunk=250):
    """Accuracy per pattern and signed readouts of `trials` fresh trials."""
    arrays, config = spikegrad.load_model(model)
    rng = np.random.default_rng(seed)
    signed, patterns = [], []
    for start in range(0, trials, chunk):
        b = min(chunk, trials - start)
        x, a1, a2, window = draw(config["h"], b, rng)
        readout = spikegrad.forward({**arrays, "x": x}, config, precision="f64")["readout"]
        mean = readout[window, :, 0].mean(axis=0)
        target = np.where(a1 != a2, 1.0, -1.0)
        signed.append(mean * target)
        patterns.append([PATTERNS.index((int(p), int(q))) for p, q in zip(a1, a2)])
    signed, patterns = np.concatenate(signed), np.concatenate(patterns)
    per_pattern = [float((signed[patterns == p] > 0).mean()) for p in range(4)]
    return {
        "trials": trials,
        "accuracy": float((signed > 0).mean()),
        "per_pattern": dict(zip(["--", "-+", "+-", "++"], per_pattern)),
        "median_signed_readout": float(np.median(signed)),
        "signed_readout_p05": float(np.percentile(signed, 5)),
        "largest_tau_s_ms": float(np.max(arrays.get("tau_s", config["tau_s"]))),
        "largest_tau_ms": float(np.max(arrays.get("tau", config["tau"]))),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder written by `spikegrad train xor`")
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    print(json.dumps(score(options.model, options.trials, options.seed), indent=1))


if __name__ == "__main__":
    main()
