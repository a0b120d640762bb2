"""Invalid input raises ValueError with the command line's message for the same case
folder (which the CLI prefixes with the folder's path), and never crashes the process."""

import json

import numpy as np
import pytest

import spikegrad
from conftest import command_line, random_case, write_case


def _nan_w(a, c):
    a["W"][2, 3] = np.nan


def _mask_above_one(a, c):
    a["mask"][5, 1, 0] = 1.5


def _shape_x(a, c):
    a["x"] = a["x"][:, :, :1]


def _drop_o(a, c):
    del a["O"]


def _unknown_key(a, c):
    c["tua"] = 3.0


def _bad_gate(a, c):
    c["gate"] = "step"


def _negative_penalty(a, c):
    c["loss"]["rate_penalty"] = -1.0


def _i_ext_shape(a, c):
    a["I_ext"] = np.zeros((3, 3, 3))


def _small_h(a, c):
    c["h"] = 0.0


def _state_shape(a, c):
    a["v0"] = np.zeros((2, 2, 2))


def _mixed_dtype(a, c):
    a["U"] = a["U"].astype(np.float32)


MSE_FAULTS = [_nan_w, _mask_above_one, _shape_x, _drop_o, _unknown_key, _bad_gate,
              _negative_penalty, _i_ext_shape, _small_h, _state_shape]


def _label_out_of_range(a, c):
    a["labels"][1] = 7


def _window_past_the_end(a, c):
    c["loss"]["to_step"] = 1000


def _no_labels(a, c):
    del a["labels"]


def _per_neuron_tau_negative(a, c):
    a["tau"] = np.full(7, 20.0)
    a["tau"][4] = -1.0
    c["tau"] = "tau.npy"


CE_FAULTS = [_label_out_of_range, _window_past_the_end, _no_labels, _per_neuron_tau_negative]


def _cli_message(folder):
    with pytest.raises(ValueError) as cli_error:
        command_line("grad", folder, "--out", folder + "-out")
    return str(cli_error.value)


@pytest.mark.parametrize(
    "loss,fault",
    [("mse", f) for f in MSE_FAULTS] + [("cross_entropy", f) for f in CE_FAULTS],
    ids=lambda x: getattr(x, "__name__", x),
)
def test_same_fault_as_the_command_line_in_python_words(tmp_path, rng, loss, fault):
    """The module names the caller's array or config key where the command line names the
    case folder's file, and the fault alike."""
    arrays, config = random_case(rng, loss=loss)
    fault(arrays, config)
    folder = write_case(tmp_path / "case", arrays, config)
    file, fault_text = _cli_message(folder).removeprefix(f"{folder}: ").split(": ", 1)
    place = "config" if file == "config.json" else f"arrays[{file.removesuffix('.npy')!r}]"
    if fault_text.startswith("file not found"):
        fault_text = "missing" + fault_text.removeprefix("file not found")
    with pytest.raises(ValueError) as error:
        spikegrad.gradient(arrays, config)
    if fault_text.startswith("invalid: unknown field `"):
        # serde's words about the JSON text become words about the dict's keys.
        key = fault_text.split("`")[1]
        assert str(error.value).startswith(f"config: unknown key '{key}' (expected one of `h`")
    else:
        assert str(error.value) == f"{place}: {fault_text}"


def test_a_newcomer_passing_dicts_reads_array_and_key_names(rng):
    arrays, config = random_case(rng, loss="mse")
    with pytest.raises(ValueError, match=r"^arrays\['mask'\]: missing: the mse loss needs it"):
        spikegrad.gradient({k: v for k, v in arrays.items() if k != "mask"}, config)
    with pytest.raises(ValueError, match=r"^config: missing key 'tau_s'$"):
        spikegrad.gradient(arrays, {k: v for k, v in config.items() if k != "tau_s"})
    with pytest.raises(ValueError, match=r"^config: unknown key 'tau_m'"):
        spikegrad.gradient(arrays, dict(config, tau_m=3.0))


def test_one_dtype_per_case_folder_but_the_module_converts(tmp_path, rng):
    arrays, config = random_case(rng)
    _mixed_dtype(arrays, config)
    folder = write_case(tmp_path / "case", arrays, config)
    assert "U.npy: dtype float32 differs from W.npy's float64" in _cli_message(folder)
    # The module computes in the precision asked for: float32 inputs are widened exactly.
    spikegrad.gradient(arrays, config)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda a, c: spikegrad.gradient([a], c), "arrays must be a dict"),
        (lambda a, c: spikegrad.gradient(a, c, precision="f16"), 'precision \'f16\' is not "f32" or "f64"'),
        (lambda a, c: spikegrad.gradient(a, "{not json"), "config: invalid: key must be a string"),
        (lambda a, c: spikegrad.gradient(a, 3), "config: must be a dict"),
        (lambda a, c: spikegrad.gradient({**a, "x": np.array(["a"])}, c), "arrays['x']: dtype <U1 is not a real number"),
        (lambda a, c: spikegrad.gradient({**a, 3: a["W"]}, c), "arrays: key 3: names must be strings"),
        (lambda a, c: spikegrad.gradient({**a, "W": [[1, 2], [3]]}, c), "arrays['W']: not an array"),
        (lambda a, c: spikegrad.forward({**a, "x": np.zeros((0, 3, 2))}, c), "arrays['x']: T (axis 0) is 0"),
        (lambda a, c: spikegrad.gradient(a, dict(c, h=float("nan"))), "config"),
    ],
)
def test_python_level_faults(rng, call, message):
    arrays, config = random_case(rng)
    with pytest.raises(ValueError) as error:
        call(arrays, config)
    assert message in str(error.value)


def test_float_labels_are_refused(rng):
    arrays, config = random_case(rng, loss="cross_entropy")
    arrays["labels"] = arrays["labels"].astype(np.float64)
    with pytest.raises(ValueError, match=r"arrays\['labels'\]: dtype float64 is not an integer type"):
        spikegrad.gradient(arrays, config)


def test_unused_arrays_are_named_in_a_warning(rng):
    arrays, config = random_case(rng, loss="linear")
    arrays["target"] = np.zeros(3)
    with pytest.warns(UserWarning, match="target.npy is not used by this case"):
        spikegrad.gradient(arrays, config)


def test_a_run_that_overflows_raises(rng):
    arrays, config = random_case(rng, loss="mse")
    arrays["x"] = np.full_like(arrays["x"], 1e300)
    with pytest.raises(ValueError, match="the run failed"):
        spikegrad.gradient(arrays, config)


def test_config_round_trips_through_json(rng):
    arrays, config = random_case(rng)
    assert spikegrad.gradient(arrays, json.dumps(config))[0] == spikegrad.gradient(arrays, config)[0]
