"""`spikegrad.gradient` and `spikegrad.forward` against the command line (the same case
as a folder through `spikegrad grad`, kernels and reference engines) and against
central finite differences; inputs in both dtypes and layouts; no copy of inputs that
need none; the GIL released during the sweeps."""

import os
import threading
import time

import numpy as np
import pytest

import spikegrad
from conftest import command_line, random_case, read_gradient, write_case

VARIANTS = [
    dict(loss="mse"),
    dict(loss="mse", shared_state=True, rate_penalty=0.05),
    dict(loss="cross_entropy", per_neuron=True),
    dict(loss="cross_entropy", w_mask=True, i_ext=True, rate_penalty=0.1),
    dict(loss="linear", i_ext=True, gate="boxcar"),
    dict(loss="linear", per_neuron=True, shared_state=True, w_mask=True),
    dict(loss="mse", neuron="hopf_phase"),
]


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
@pytest.mark.parametrize("precision", ["f64", "f32"])
def test_gradient_equals_the_command_line(tmp_path, rng, variant, precision):
    """Same case, same kernels: the module's results are the CLI's files bit for bit."""
    arrays, config = random_case(rng, **variant)
    dtype = spikegrad.DTYPES[precision]
    arrays = {k: (v.astype(dtype) if k != "labels" else v) for k, v in arrays.items()}
    folder = write_case(tmp_path / "case", arrays, config)
    command_line("grad", folder, "--out", str(tmp_path / "out"))
    cli_loss, cli_grads, cli_dconfig = read_gradient(tmp_path / "out")
    loss, grads = spikegrad.gradient(arrays, config, precision=precision)
    assert loss == cli_loss
    assert grads.pop("dconfig") == cli_dconfig
    assert sorted(grads) == sorted(cli_grads)
    for name, value in grads.items():
        assert value.dtype == dtype, name
        assert value.shape == cli_grads[name].shape, name
        np.testing.assert_array_equal(value, cli_grads[name], err_msg=name)


@pytest.mark.parametrize("variant", VARIANTS[:-1], ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
def test_f64_gradient_matches_the_reference(tmp_path, rng, variant):
    """The oracle's bar: f64 within 1e-10 relative of the reference implementation."""
    arrays, config = random_case(rng, **variant)
    folder = write_case(tmp_path / "case", arrays, config)
    command_line("grad", folder, "--engine", "reference", "--out", str(tmp_path / "ref"))
    ref_loss, ref_grads, ref_dconfig = read_gradient(tmp_path / "ref")
    loss, grads = spikegrad.gradient(arrays, config)
    assert abs(loss - ref_loss) <= 1e-10 * abs(ref_loss)
    for name, value in ref_grads.items():
        assert relative_error(grads[name], value) <= 1e-10, name
    for key, value in ref_dconfig.items():
        if value is not None:
            assert abs(grads["dconfig"][key] - value) <= 1e-10 * max(abs(value), 1e-12), key


def test_gradient_matches_finite_differences(rng):
    """dL/dW, dL/dI0 and dL/dtau from the module against central differences of its loss."""
    arrays, config = random_case(rng, loss="mse", n=5, b=2, t=80)
    loss, grads = spikegrad.gradient(arrays, config)
    # Step 1e-4: truncation (~eps^2) and rounding (~|L| 1e-16 / eps, |L| ~ 50 here) both
    # stay below 1e-6 relative (measured worst 4.2e-7 over these entries; at eps 1e-6
    # rounding alone reached 2.7e-5).
    eps = 1e-4
    for name, index in [("W", (1, 2)), ("W", (4, 0)), ("I0", (3,)), ("U", (2, 1))]:
        plus, minus = dict(arrays), dict(arrays)
        plus[name], minus[name] = arrays[name].copy(), arrays[name].copy()
        plus[name][index] += eps
        minus[name][index] -= eps
        numeric = (spikegrad.gradient(plus, config)[0] - spikegrad.gradient(minus, config)[0]) / (2 * eps)
        exact = grads["d" + name][index]
        assert abs(numeric - exact) <= 1e-5 * max(abs(exact), 1e-3), (name, index, numeric, exact)
    up, down = dict(config, tau=config["tau"] + eps), dict(config, tau=config["tau"] - eps)
    numeric = (spikegrad.gradient(arrays, up)[0] - spikegrad.gradient(arrays, down)[0]) / (2 * eps)
    assert abs(numeric - grads["dconfig"]["tau"]) <= 1e-5 * abs(numeric)


def test_inputs_of_any_layout_and_dtype_give_the_same_gradient(rng):
    arrays, config = random_case(rng, loss="cross_entropy")
    loss, grads = spikegrad.gradient(arrays, config)
    # Fortran order, a strided view, float32 widened, Python lists, int32 labels.
    other = dict(arrays)
    other["W"] = np.asfortranarray(arrays["W"])
    other["x"] = np.repeat(arrays["x"], 2, axis=2)[:, :, ::2]
    assert not other["x"].flags.c_contiguous
    other["U"] = arrays["U"].tolist()
    other["labels"] = arrays["labels"].astype(np.int32)
    loss2, grads2 = spikegrad.gradient(other, config)
    assert loss2 == loss
    for name in ("dW", "dU", "dx"):
        np.testing.assert_array_equal(grads2[name], grads[name])
    single = {k: (v.astype(np.float32) if k != "labels" else v) for k, v in arrays.items()}
    widened = {k: (v.astype(np.float64) if k != "labels" else v) for k, v in single.items()}
    assert spikegrad.gradient(single, config, "f64")[0] == spikegrad.gradient(widened, config)[0]


def test_inputs_that_need_no_conversion_are_not_copied(rng):
    arrays, config = random_case(rng, loss="cross_entropy")
    prepared = spikegrad._prepare(arrays, np.float64)
    for name, value in arrays.items():
        assert prepared[name] is value, name
    single = {k: v.astype(np.float32) for k, v in arrays.items() if k != "labels"}
    prepared = spikegrad._prepare(single, np.float32)
    assert all(prepared[k] is v for k, v in single.items())
    # A read-only array is read in place too (the module only borrows it).
    arrays["x"].setflags(write=False)
    spikegrad.gradient(arrays, config)


def test_the_gil_is_released_during_the_sweep(rng):
    """While a long gradient runs in another thread, this thread keeps running Python."""
    arrays, config = random_case(rng, loss="mse", n=200, b=8, t=3000)
    spikegrad.gradient(arrays, config)  # warm up
    start = time.perf_counter()
    spikegrad.gradient(arrays, config)
    single = time.perf_counter() - start
    worker = threading.Thread(target=spikegrad.gradient, args=(arrays, config))
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        sum(range(200))
    worker.join()
    gaps = np.diff(ticks)
    assert single > 0.2, "the case is too small to show anything"
    # Holding the GIL would stall this loop for the whole sweep (about `single`).
    assert len(ticks) > 100 and gaps.max() < single / 2, (single, gaps.max(), len(ticks))


def test_forward_gives_readout_spikes_and_final_state(tmp_path, rng):
    arrays, config = random_case(rng, loss="mse", b=4, t=120, shared_state=True, i_ext=True)
    out = spikegrad.forward(arrays, config)
    assert out["readout"].shape == (120, 4, 3)
    assert out["v_T"].shape == out["s_T"].shape == (4, 7)
    spikes = out["spikes"]
    assert spikes.dtype == np.int64 and spikes.shape[1] == 3 and len(spikes) > 0
    assert np.all(np.diff(spikes[:, 0]) >= 0)
    assert spikes[:, 1].max() < 7 and spikes[:, 2].max() < 120
    # The readout is O s_t: zero O gives zero readout, the same spikes.
    quiet = dict(arrays, O=np.zeros_like(arrays["O"]))
    again = spikegrad.forward(quiet, config)
    assert not again["readout"].any()
    np.testing.assert_array_equal(again["spikes"], spikes)
    # The forward run is the gradient's: the linear loss with G = 1 sums the readout.
    linear = dict(arrays, G=np.ones((120, 4, 3)))
    del linear["target"], linear["mask"]
    loss, _ = spikegrad.gradient(linear, dict(config, loss=dict(kind="linear")))
    assert abs(loss - out["readout"].sum()) <= 1e-12 * abs(loss) + 1e-12
    # f32 runs too.
    assert spikegrad.forward(arrays, config, "f32")["readout"].dtype == np.float32


def test_threads_share_arrays_and_agree(rng):
    """Several threads sweeping the same (read-only borrowed) arrays at once each get the
    single-threaded result."""
    arrays, config = random_case(rng, loss="cross_entropy", n=40, b=4, t=400, i_ext=True)
    expected_loss, expected = spikegrad.gradient(arrays, config)
    results = [None] * 4

    def work(i):
        results[i] = spikegrad.gradient(arrays, config)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for loss, grads in results:
        assert loss == expected_loss
        for name in ("dW", "dx", "dI_ext"):
            np.testing.assert_array_equal(grads[name], expected[name])


def test_many_random_cases_match_the_reference(tmp_path):
    """40 cases drawn at random (fixed seed) over every option and size: the module's f64
    gradient within 1e-10 relative of the reference engine, array by array."""
    rng = np.random.default_rng(7)
    for i in range(40):
        variant = dict(
            loss=rng.choice(["mse", "cross_entropy", "linear"]),
            n=int(rng.integers(1, 12)), n_in=int(rng.integers(1, 4)),
            n_out=int(rng.integers(2, 4)), b=int(rng.integers(1, 5)), t=int(rng.integers(2, 150)),
            shared_state=bool(rng.integers(2)), per_neuron=bool(rng.integers(2)),
            w_mask=bool(rng.integers(2)), i_ext=bool(rng.integers(2)),
            gate=rng.choice(["raised_cosine", "boxcar"]),
            neuron=rng.choice(["theta", "hopf_phase"]),
            rate_penalty=float(rng.choice([0.0, 0.1])),
        )
        arrays, config = random_case(rng, **variant)
        folder = write_case(tmp_path / f"case{i}", arrays, config)
        command_line("grad", folder, "--engine", "reference", "--out", str(tmp_path / f"ref{i}"))
        ref_loss, ref_grads, _ = read_gradient(tmp_path / f"ref{i}")
        loss, grads = spikegrad.gradient(arrays, config)
        assert abs(loss - ref_loss) <= 1e-10 * abs(ref_loss) + 1e-300, (i, variant)
        for name, value in ref_grads.items():
            assert relative_error(grads[name], value) <= 1e-10 or np.abs(value).max() == 0, (i, name, variant)


def test_an_initial_phase_is_taken_modulo_two(rng):
    """v0 is a point on the circle: whole turns added to it change nothing."""
    arrays, config = random_case(rng, loss="mse", n=5, b=2, t=60)
    loss, grads = spikegrad.gradient(arrays, config)
    turned = dict(arrays, v0=arrays["v0"] + np.array([[4.0, -2.0, 0, 6.0, 2.0], [0, 0, -4.0, 2.0, 0]]))
    loss_turned, grads_turned = spikegrad.gradient(turned, config)
    assert abs(loss_turned - loss) <= 1e-12 * abs(loss)
    np.testing.assert_allclose(grads_turned["dv0"], grads["dv0"], rtol=1e-9, atol=1e-12)


def test_the_midpoint_step_is_a_config_key_and_its_gradient_matches_finite_differences(rng):
    """config["step"] = "midpoint": the theta neuron's stable step (docs/model.md section 9)."""
    arrays, config = random_case(rng, loss="mse", n=5, b=2, t=80)
    euler_loss, _ = spikegrad.gradient(arrays, config)
    config = dict(config, step="midpoint")
    loss, grads = spikegrad.gradient(arrays, config)
    assert abs(loss - euler_loss) > 1e-9 * abs(euler_loss)
    eps = 1e-4

    def central(name, index, step):
        plus, minus = dict(arrays), dict(arrays)
        plus[name], minus[name] = arrays[name].copy(), arrays[name].copy()
        plus[name][index] += step
        minus[name][index] -= step
        return (spikegrad.gradient(plus, config)[0] - spikegrad.gradient(minus, config)[0]) / (2 * step)

    for name, index in [("W", (1, 2)), ("I0", (3,)), ("v0", (1, 4))]:
        # Richardson-extrapolated: this case's loss curves strongly along I0[3] (the plain
        # central difference's error was 4e-5 relative at 1e-4 and fell as eps^2, measured).
        numeric = (4 * central(name, index, eps / 2) - central(name, index, eps)) / 3
        exact = grads["d" + name][index]
        assert abs(numeric - exact) <= 1e-5 * max(abs(exact), 1e-3), (name, index, numeric, exact)
    up, down = dict(config, tau=config["tau"] + eps), dict(config, tau=config["tau"] - eps)
    numeric = (spikegrad.gradient(arrays, up)[0] - spikegrad.gradient(arrays, down)[0]) / (2 * eps)
    assert abs(numeric - grads["dconfig"]["tau"]) <= 1e-5 * abs(numeric)
    with pytest.raises(ValueError, match='step "rk4" is not "euler" or "midpoint"'):
        spikegrad.gradient(arrays, dict(config, step="rk4"))
