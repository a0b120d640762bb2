"""How much of the delayed-memory XOR the latch start solves before any training.

Builds the start of `spikegrad train xor` (one iteration of training, whose steps on W, U
and I0 are 1e-4: the start itself), replaces its readout by a least-squares fit of the
target on each neuron's synaptic current averaged over the response window (400 fresh
trials), and scores that readout on 200 other trials with score_xor.py's definition of the
task. A high score means the memory is in the start's structure (the latches), not in
what gradient descent learns.

    python python/examples/latch_readout.py [--seed 1]
"""

import argparse
import pathlib
import sys
import tempfile

import numpy as np

import spikegrad

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import score_xor  # noqa: E402  (the task's definition, beside this file)


def window_means(arrays, config, trials, rng):
    """Each neuron's s averaged over the response window, (trials, N), and the targets."""
    n = arrays["W"].shape[0]
    x, a1, a2, window = score_xor.draw(config["h"], trials, rng)
    probe = {**arrays, "O": np.eye(n, dtype=arrays["O"].dtype), "x": x}
    s = spikegrad.forward(probe, config, precision="f64")["readout"]  # O = I: o_t = s_t
    return s[window].mean(axis=0), np.where(a1 != a2, 1.0, -1.0), a1, a2


def fitted_readout(seed, fit_trials=400, test_trials=200):
    with tempfile.TemporaryDirectory() as root:
        out = pathlib.Path(root) / "start"
        spikegrad.train_xor(seed=seed, start="latch", max_iterations=1, eval_every=1, out=out)
        arrays, config = spikegrad.load_model(out)
    rng = np.random.default_rng(seed + 100)
    features, target, _, _ = window_means(arrays, config, fit_trials, rng)
    weights, *_ = np.linalg.lstsq(features, target, rcond=None)
    features, target, a1, a2 = window_means(arrays, config, test_trials, rng)
    signed = (features @ weights) * target
    patterns = np.array([score_xor.PATTERNS.index((int(p), int(q))) for p, q in zip(a1, a2)])
    return {
        "seed": seed,
        "accuracy": float((signed > 0).mean()),
        "per_pattern": [float((signed[patterns == p] > 0).mean()) for p in range(4)],
        "median_signed_readout": float(np.median(signed)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    print(fitted_readout(parser.parse_args().seed))


if __name__ == "__main__":
    main()
