"""`spikegrad.train_task` on spikegrad-train's loop: keywords, progress callbacks, errors
that name the keyword, and Ctrl-C answered within a training step with a checkpoint that
a later call resumes."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import spikegrad


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("task") / "yin-yang"
    spikegrad.make_task_yin_yang(folder, trials=400)
    return folder


def test_checks_reach_the_callback(task, tmp_path):
    rows = []
    result = spikegrad.train_task(
        task, out=tmp_path / "run", neurons=16, iterations=30, eval_every=10, on_check=rows.append
    )
    assert [row["iteration"] for row in rows] == [10, 20, 30]
    assert all(0 <= row["accuracy"] <= 1 and row["gradient_norm_median"] > 0 for row in rows)
    assert result["kept_iteration"] in (10, 20, 30) and result["stopped"] == "iterations"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["finished"] and metrics["iterations"] == 30
    assert metrics["held_out"]["score"]["accuracy"] == result["accuracy"]
    # The probes ran, one iteration each: none learned beyond the untrained model, so the
    # option's rate stands; the plan says so, as metrics.json does.
    plan = result["plan"]
    assert plan == metrics["plan"]
    assert result["back_offs"] == metrics["back_offs"]
    assert plan["chosen_by"] == {"neurons": "option", "learning_rate": "no probe learned",
                                 "recurrent_current": "option", "iterations": "option"}
    assert plan["neurons"] == 16
    assert len(plan["probes"]) == 4 and plan["learning_rate"] == 0.003
    assert 0 <= plan["untrained"]["accuracy"] <= 1


def test_given_settings_leave_the_probes_nothing_to_choose(task, tmp_path):
    result = spikegrad.train_task(task, out=tmp_path / "run", neurons=16, iterations=10,
                                  learning_rate=0.003, recurrent_current=0.2, clip="per_parameter",
                                  clip_norm=2.0, on_check=lambda row: None)
    plan = result["plan"]
    assert plan["probes"] == [] and plan["learning_rate"] == 0.003
    assert plan["recurrent_current"] == 0.2 and plan["chosen_by"]["learning_rate"] == "option"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["clip"] == {"kind": "per_parameter", "norm": 2.0}


def test_a_callback_error_stops_the_run(task, tmp_path):
    def fail(row):
        raise RuntimeError(f"stop at {row['iteration']}")

    with pytest.raises(RuntimeError, match="stop at 10"):
        spikegrad.train_task(task, out=tmp_path / "run", neurons=16, iterations=50,
                             eval_every=10, on_check=fail)
    # Stopped as an interruption is: the checkpoint of where it stopped is saved.
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["finished"] is False and metrics["iterations"] == 10


def test_bad_keywords_are_named(task, tmp_path):
    with pytest.raises(TypeError, match="learning_rat"):
        spikegrad.train_task(task, learning_rat=0.1)
    with pytest.raises(ValueError, match="learning_rate=-1: must be a finite number > 0"):
        spikegrad.train_task(task, learning_rate=-1)
    with pytest.raises(ValueError, match="probe_learning_rates=0: each must be finite and > 0"):
        spikegrad.train_task(task, probe_learning_rates=[0.01, 0])
    with pytest.raises(ValueError, match="clip=sideways: must be one of"):
        spikegrad.train_task(task, clip="sideways")
    with pytest.raises(ValueError, match='precision="f16"'):
        spikegrad.train_task(task, precision="f16")
    with pytest.raises(ValueError, match='step="rk4"'):
        spikegrad.train_task(task, step="rk4", out=tmp_path / "x")
    with pytest.raises(ValueError, match="init=.*: not a folder"):
        spikegrad.train_task(task, init=tmp_path / "none")
    with pytest.raises(ValueError, match=r"neurons=100000, batch=32: the run would need"):
        spikegrad.train_task(task, neurons=100000, out=tmp_path / "huge")
    assert not (tmp_path / "huge").exists()


def test_ctrl_c_raises_keyboard_interrupt_and_leaves_a_checkpoint(task, tmp_path):
    out = tmp_path / "run"
    script = textwrap.dedent(f"""
        import signal, sys, spikegrad
        # A process started in the background of a shell inherits SIGINT ignored: Python
        # then installs no handler of its own. Install it, as an interactive session has.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        def said(row):
            print("check", row["iteration"], flush=True)
        try:
            spikegrad.train_task({str(task)!r}, out={str(out)!r}, neurons=32,
                                 iterations=100000, eval_every=5, on_check=said)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().startswith("check"), child.stderr.read()
        child.send_signal(signal.SIGINT)
        sent = time.monotonic()
        code = child.wait(timeout=30)
        waited = time.monotonic() - sent
    finally:
        child.kill()
    assert code == 3 and "interrupted" in child.stdout.read()
    assert waited < 2.0, f"{waited:.2f} s from SIGINT to the exception"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["finished"] is False and metrics["iterations"] >= 5
    assert not any(name.startswith(".") for name in os.listdir(tmp_path)), os.listdir(tmp_path)
    # The checkpoint resumes where the run stopped.
    done = metrics["iterations"]
    rows = []
    result = spikegrad.train_task(task, out=out, init=out, neurons=32, iterations=done + 5,
                                  eval_every=5, on_check=rows.append)
    assert result["iterations"] == done + 5 and rows[-1]["iteration"] == done + 5
