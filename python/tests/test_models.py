"""Model folders and the command line's training entry points from Python: train a small
task, load the model, run it forward on fresh trials (equal to `spikegrad run`), save it
back, and refuse what is not a model."""

import json
import os

import numpy as np
import pytest

import spikegrad


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A Yin-Yang model trained for a few iterations, and a fresh data folder."""
    root = tmp_path_factory.mktemp("train")
    task, fresh, out = root / "yin-yang", root / "fresh", root / "model"
    spikegrad.make_task_yin_yang(task, trials=300)
    spikegrad.make_task_yin_yang(fresh, trials=50, seed=7)
    result = spikegrad.train_task(task, out=out, neurons=16, iterations=20, eval_every=10)
    assert result["iterations"] == 20 and 0 <= result["accuracy"] <= 1, result
    return task, fresh, out


def test_load_model_gives_a_case_with_new_data(trained):
    task, fresh, out = trained
    arrays, config = spikegrad.load_model(out)
    assert arrays["W"].shape == (16, 16) and arrays["W"].dtype == np.float32
    assert arrays["v0"].shape == (16,)
    assert config["loss"]["kind"] == "cross_entropy"
    x = np.load(fresh / "x.npy")
    labels = np.load(fresh / "labels.npy")
    run = spikegrad.forward({**arrays, "x": x}, config, precision="f32")
    spikegrad.run(out, fresh, out=fresh / "run")
    readout = np.load(fresh / "run" / "readout.npy")
    np.testing.assert_allclose(run["readout"], readout, rtol=0, atol=1e-5)
    spikes = np.load(fresh / "run" / "spikes.npy")
    np.testing.assert_array_equal(run["spikes"], spikes)
    # The model plus labels is a case for the gradient.
    loss, grads = spikegrad.gradient({**arrays, "x": x, "labels": labels}, config, "f32")
    assert np.isfinite(loss) and grads["dv0"].shape == (16,)


def test_save_model_round_trips(trained, tmp_path):
    _, _, out = trained
    arrays, config = spikegrad.load_model(out)
    spikegrad.save_model(tmp_path / "copy", arrays, config)
    again, config_again = spikegrad.load_model(tmp_path / "copy")
    assert config_again == config
    for name in arrays:
        np.testing.assert_array_equal(again[name], arrays[name])
    # Per-neuron constants and float64 arrays are saved too.
    per_neuron = dict(arrays, tau=np.full(16, 15.0), tau_s=np.linspace(20, 40, 16))
    config_per_neuron = dict(config, tau="tau.npy", tau_s="tau_s.npy")
    spikegrad.save_model(tmp_path / "copy", per_neuron, config_per_neuron)
    again, config_again = spikegrad.load_model(tmp_path / "copy")
    np.testing.assert_allclose(again["tau_s"], np.linspace(20, 40, 16), rtol=1e-7)
    assert config_again["tau_s"] == "tau_s.npy"


def test_invalid_models_are_refused_and_nothing_is_written(trained, tmp_path):
    _, _, out = trained
    arrays, config = spikegrad.load_model(out)
    target = tmp_path / "bad"
    cases = [
        (dict(arrays, O=arrays["O"][:, :3]), config, "arrays['O']: shape [3, 3], expected (n_out, N)"),
        (dict(arrays, W=np.full((16, 16), np.inf)), config, "arrays['W']: element [0, 0] is not finite"),
        (dict(arrays, x=np.zeros(3)), config, "arrays['x']: not an array of this model folder"),
        ({k: v for k, v in arrays.items() if k != "I0"}, config, "arrays['I0']: missing"),
        (arrays, dict(config, gate="none"), "config: gate \"none\""),
    ]
    for bad_arrays, bad_config, message in cases:
        with pytest.raises(ValueError) as error:
            spikegrad.save_model(target, bad_arrays, bad_config)
        assert message in str(error.value)
        assert not target.exists()
        assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], os.listdir(tmp_path)
    # A folder of other files is not replaced.
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="spikegrad did not write there"):
        spikegrad.save_model(other, arrays, config)
    assert (other / "notes.txt").read_text() == "mine"
    # Nor a training run's output: save_model replaces only what save_model wrote.
    with pytest.raises(ValueError, match="holds the output of `spikegrad train task`"):
        spikegrad.save_model(out, arrays, config)
    assert spikegrad.load_model(out)[1] == config
    with pytest.raises(ValueError, match="not a folder"):
        spikegrad.load_model(other / "notes.txt")


def test_keyword_errors(tmp_path):
    with pytest.raises(ValueError, match="batch=0: must be at least 1"):
        spikegrad.train_task(tmp_path, batch=0)
    with pytest.raises(TypeError, match="no_such_option"):
        spikegrad.train_task(tmp_path, no_such_option=3)
    with pytest.raises(TypeError, match="no_such_option"):
        spikegrad.train_xor(no_such_option=3)
    # A run too large for memory is refused before any work, the sizes named.
    with pytest.raises(ValueError, match=r"neurons=100000, batch=32, h=2: the run would need"):
        spikegrad.train_xor(neurons=100000, out=tmp_path / "huge")
    assert not (tmp_path / "huge").exists()


def test_train_efficient_coding_takes_a_list_of_penalties(tmp_path):
    out = tmp_path / "coding"
    result = spikegrad.train_efficient_coding(
        penalties=[0, 10.0], neurons=4, batch=2, max_iterations=1, eval_every=1,
        trial_ms=30, out=out,
    )
    assert [pair["learned"]["rate_penalty"] for pair in result["networks"]] == [0.0, 10.0]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [row["rate_penalty"] for row in metrics["networks"]] == [0.0, 10.0]
    assert (out / "w0-10" / "W.npy").exists() and (out / "learned-0" / "W.npy").exists()
