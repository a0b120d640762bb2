"""The project's generated tasks from Python: every kind writes a task folder that the
command line's `make-task` writes byte for byte, and bad arguments raise ValueError."""

import json

import numpy as np
import pytest

import spikegrad

from conftest import command_line

KINDS = [
    "yin-yang",
    "yin-yang-gap",
    "yin-yang-long-gap",
    "yin-yang-latency",
    "patterns",
    "smooth",
    "xor",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_matches_the_command_line(tmp_path, kind):
    ours, theirs = tmp_path / "python", tmp_path / "cli"
    spikegrad.make_task(kind, ours, trials=6, seed=2)
    command_line("make-task", kind, theirs, "--trials", "6", "--seed", "2")
    files = sorted(p.name for p in ours.iterdir())
    assert files == sorted(p.name for p in theirs.iterdir())
    for name in files:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    config = json.loads((ours / "config.json").read_text())
    x = np.load(ours / "x.npy")
    assert x.shape[1] == 6 and x.dtype == np.float32
    if config["loss"]["kind"] == "cross_entropy":
        assert np.load(ours / "labels.npy").shape == (6,)
    else:
        assert np.load(ours / "target.npy").shape == np.load(ours / "mask.npy").shape


def test_bad_arguments_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match='kind="yinyang": not a task; one of yin-yang'):
        spikegrad.make_task("yinyang", tmp_path / "a")
    with pytest.raises(ValueError, match="trials=0"):
        spikegrad.make_task("xor", tmp_path / "b", trials=0)
    with pytest.raises(TypeError, match="seeds"):
        spikegrad.make_task("xor", tmp_path / "c", seeds=3)
