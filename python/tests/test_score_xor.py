"""python/examples/score_xor.py: its trials follow the task's definition, and it scores a
model saved by `spikegrad train xor`."""

import importlib.util
import pathlib

import numpy as np

import spikegrad

_PATH = pathlib.Path(__file__).resolve().parents[1] / "examples" / "score_xor.py"
_SPEC = importlib.util.spec_from_file_location("score_xor", _PATH)
score_xor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(score_xor)


def test_trials_follow_the_definition():
    x, a1, a2, window = score_xor.draw(2.0, 64, np.random.default_rng(3))
    assert x.shape == (500, 64, 2)
    # Step t is time 2t ms: first pulse [50, 100) = steps 25..49, go cue [800, 850) = 400..424.
    np.testing.assert_array_equal(x[25:50, :, 0], np.broadcast_to(a1, (25, 64)))
    assert np.all(x[400:425, :, 1] == 1.0) and np.all(x[425:, :, 1] == 0.0)
    assert np.all(x[:400, :, 1] == 0.0)
    # Each trial's second pulse: 25 steps of a2 starting within [200, 600] ms.
    for k in range(64):
        steps = np.flatnonzero(x[50:, k, 0]) + 50
        assert len(steps) == 25 and 100 <= steps[0] <= 300, steps
        assert np.all(x[steps, k, 0] == a2[k])
    # The readout o_{t+1} (index t) is at time (t + 1) h: [850, 1000) = indices 424..498.
    assert np.flatnonzero(window).tolist() == list(range(424, 499))
    assert {(p, q) for p, q in zip(a1, a2)} == set(score_xor.PATTERNS)


def test_scores_a_saved_model(tmp_path):
    out = tmp_path / "xor"
    spikegrad.train_xor(neurons=16, batch=4, max_iterations=2, eval_every=1, out=str(out))
    result = score_xor.score(str(out), trials=40, seed=5, chunk=15)
    assert result["trials"] == 40
    assert 0.0 <= result["accuracy"] <= 1.0
    assert set(result["per_pattern"]) == {"--", "-+", "+-", "++"}
    assert result["largest_tau_s_ms"] == 100.0 and result["largest_tau_ms"] == 20.0
    assert np.isfinite(result["median_signed_readout"])


def test_the_latch_start_holds_the_memory_before_training():
    # python/examples/latch_readout.py: a least-squares readout of the start's synaptic
    # currents solves the task (docs/training.md: the memory is in the start, not learned).
    spec = importlib.util.spec_from_file_location("latch_readout", _PATH.with_name("latch_readout.py"))
    latch_readout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(latch_readout)
    result = latch_readout.fitted_readout(seed=2, fit_trials=200, test_trials=100)
    assert result["accuracy"] >= 0.97 and min(result["per_pattern"]) >= 0.9, result
    assert result["median_signed_readout"] > 0.8, result
