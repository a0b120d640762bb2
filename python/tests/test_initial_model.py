"""spikegrad.initial_model: the fresh start of `train task`, on the caller's arrays."""

import numpy as np
import pytest

import spikegrad
from conftest import random_case


def test_the_start_is_seeded_and_scaled_by_the_data(rng):
    arrays, config = random_case(rng, loss="mse", n=7, b=40, t=100)
    x = 50.0 * arrays["x"]  # the inputs' units do not matter
    start = spikegrad.initial_model(config, x, 32, target=arrays["target"], seed=5)
    assert {k: v.shape for k, v in start.items()} == {
        "W": (32, 32), "U": (32, 2), "I0": (32,), "O": (3, 32), "v0": (32,), "s0": (32,)}
    assert all(v.dtype == np.float32 for v in start.values())
    same = spikegrad.initial_model(config, x, 32, target=arrays["target"], seed=5)
    other = spikegrad.initial_model(config, x, 32, target=arrays["target"], seed=6)
    assert all(np.array_equal(start[k], same[k]) for k in start)
    assert not np.array_equal(start["W"], other["W"])
    # U x has standard deviation input_current (2) whatever the inputs' scale.
    current = x.reshape(-1, 2) @ start["U"].T.astype(np.float64)
    assert 1.5 < current.std() < 2.5
    assert (start["s0"] == 0).all() and (np.abs(start["v0"]) <= 1).all()
    # The resting neurons start at their rest phase.
    i0 = start["I0"].astype(np.float64)
    resting = i0 < 0
    f = (1 - np.cos(np.pi * start["v0"])) + (1 + np.cos(np.pi * start["v0"])) * i0
    assert np.abs(f[resting]).max() < 1e-5


def test_classes_read_the_labels(rng):
    arrays, config = random_case(rng, loss="cross_entropy", b=20)
    start = spikegrad.initial_model(config, arrays["x"], 8, labels=arrays["labels"])
    assert start["O"].shape[0] == max(2, int(arrays["labels"].max()) + 1)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(neurons=0), "neurons=0: must be an integer of at least 1"),
        (dict(neurons=10**6), "neurons=1000000: "),
        (dict(labels=None), "labels: the cross_entropy loss needs labels"),
        (dict(labels=np.array([0, -1, 1])), "labels: -1 is negative"),
        (dict(labels=np.array([0.5, 1.0, 0.0])), "labels: dtype float64 is not an integer type"),
        (dict(x=np.zeros((60, 3))), "x: 2 dimensions [60, 3], expected 3"),
        (dict(config_loss=dict(kind="cross_entropy", from_step=10, to_step=99)),
         "loss.to_step = 99 is outside the steps"),
    ],
)
def test_bad_input_is_named(rng, change, message):
    arrays, config = random_case(rng, loss="cross_entropy", b=3, t=60)
    if "config_loss" in change:
        config = dict(config, loss=change.pop("config_loss"))
    kwargs = dict(x=arrays["x"], neurons=8, labels=arrays["labels"])
    kwargs.update(change)
    with pytest.raises(ValueError) as raised:
        spikegrad.initial_model(config, kwargs.pop("x"), kwargs.pop("neurons"), **kwargs)
    assert message in str(raised.value)
