"""spikegrad.jax: a JAX loss through the spiking layer differentiates to spikegrad's own
gradient of the same loss. Skipped where JAX is not installed (CI installs it)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import spikegrad  # noqa: E402
from spikegrad.jax import spiking_layer  # noqa: E402
from conftest import random_case  # noqa: E402

WEIGHTS = ("W", "U", "I0", "O")
STATE = ("v0", "s0")


def _mse_in_jax(layer, h, b):
    """docs/model.md's masked MSE, written in JAX on the layer's readout."""

    def loss(params, x, state, target, mask):
        readout = layer(params, x, state)
        return h / b * 0.5 * jnp.sum(mask * (readout - target) ** 2)

    return loss


def test_jax_gradient_equals_spikegrads(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    expected_loss, expected = spikegrad.gradient(arrays, config)
    layer = spiking_layer(config)
    params = {name: jnp.asarray(arrays[name]) for name in WEIGHTS}
    state = {name: jnp.asarray(arrays[name]) for name in STATE}
    loss = _mse_in_jax(layer, config["h"], arrays["x"].shape[1])
    args = (params, jnp.asarray(arrays["x"]), state, arrays["target"], arrays["mask"])
    value, (dparams, dx, dstate) = jax.value_and_grad(loss, argnums=(0, 1, 2))(*args)
    assert abs(float(value) - expected_loss) <= 1e-12 * abs(expected_loss)
    for name, got in list(dparams.items()) + list(dstate.items()):
        np.testing.assert_allclose(got, expected["d" + name], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dx, expected["dx"], rtol=1e-10, atol=1e-14)
    # Jitted, the same.
    jitted = jax.jit(jax.grad(loss))(*args)
    np.testing.assert_allclose(jitted["W"], expected["dW"], rtol=1e-10, atol=1e-14)


def test_jax_layer_in_float32_trains(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    layer = spiking_layer(config)
    params = {name: jnp.asarray(arrays[name], dtype=jnp.float32) for name in WEIGHTS}
    x = jnp.asarray(arrays["x"], dtype=jnp.float32)
    target = jnp.asarray(arrays["target"], dtype=jnp.float32)
    loss = lambda p: jnp.mean((layer(p, x) - target) ** 2)  # the state: every neuron at rest
    before = float(loss(params))
    for _ in range(20):
        grads = jax.grad(loss)(params)
        assert grads["W"].dtype == jnp.float32
        params = {k: params[k] - 0.05 * grads[k] for k in params}
    assert float(loss(params)) < before


def _layer_case(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    params = {name: jnp.asarray(arrays[name]) for name in WEIGHTS}
    return spiking_layer(config), params, jnp.asarray(arrays["x"]), arrays


@pytest.mark.parametrize(
    "fault, message",
    [
        (lambda p: {k: v for k, v in p.items() if k != "O"}, "params: missing ['O']"),
        (lambda p: dict(p, v0=p["I0"]), "params['v0']: the initial state is not a trainable"),
        (lambda p: dict(p, w=p["W"]), "params: unknown ['w']"),
        (lambda p: dict(p, U=p["U"][:, :1]), "params['U']: shape [7, 1], expected [7, 2]"),
        (lambda p: dict(p, I0=p["I0"][:, None]), "params['I0']: shape [7, 1], expected (N,)"),
    ],
)
def test_a_fault_of_the_parameters_is_named_when_the_layer_is_traced(rng, fault, message):
    layer, params, x, _ = _layer_case(rng)
    with pytest.raises(ValueError) as raised:
        jax.jit(layer)(fault(params), x)
    assert message in str(raised.value)


def test_a_state_of_the_wrong_shape_is_named(rng):
    layer, params, x, _ = _layer_case(rng)
    state = {"v0": jnp.zeros(5), "s0": jnp.zeros(7)}
    with pytest.raises(ValueError, match=r"state\['v0'\]: shape \[5\], expected \[7\] or \[3, 7\]"):
        layer(params, x, state)
    with pytest.raises(ValueError, match="state must be a dict of exactly v0 and s0"):
        layer(params, x, {"v0": jnp.zeros(7)})


def test_a_nan_inside_jit_raises_with_spikegrads_line(rng):
    layer, params, x, _ = _layer_case(rng)
    x = x.at[3, 1, 0].set(jnp.nan)
    with pytest.raises(Exception) as raised:
        jax.block_until_ready(jax.jit(layer)(params, x))
    text = str(raised.value)
    assert "spikegrad layer: arrays['x']: element [3, 1, 0] is NaN" in text, text
    # Outside jit the values are known: named before the kernels run.
    with pytest.raises(ValueError, match=r"x: element \[3, 1, 0\] is nan: every value must be finite"):
        layer(params, x)


def test_vmap_maps_batches_of_trials(rng):
    layer, params, x, _ = _layer_case(rng)
    stacked = jnp.stack([x, x[::-1]])
    mapped = jax.jit(jax.vmap(layer, in_axes=(None, 0)))(params, stacked)
    np.testing.assert_allclose(mapped[0], layer(params, x), rtol=1e-12)
    np.testing.assert_allclose(mapped[1], layer(params, x[::-1]), rtol=1e-12)
    with pytest.raises(ValueError, match="vmap_method='bogus'"):
        spiking_layer({"h": 1.0}, vmap_method="bogus")


def test_the_default_state_is_every_neuron_at_rest_and_not_trained(rng):
    layer, params, x, arrays = _layer_case(rng)
    i0 = np.asarray(params["I0"])
    rest = np.where(i0 < 0, -np.arccos((1 + np.minimum(i0, 0)) / (1 - np.minimum(i0, 0))) / np.pi, 0.0)
    state = {"v0": jnp.asarray(rest), "s0": jnp.zeros_like(params["I0"])}
    np.testing.assert_allclose(layer(params, x), layer(params, x, state), rtol=1e-12)
    grads = jax.grad(lambda p: jnp.sum(layer(p, x) ** 2))(params)
    assert set(grads) == set(WEIGHTS)


def test_initial_model_starts_a_jax_layer(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True, n=16, t=80, b=8)
    start = spikegrad.initial_model(config, arrays["x"], 16, target=arrays["target"], seed=3)
    assert set(start) == set(WEIGHTS + STATE)
    again = spikegrad.initial_model(config, arrays["x"], 16, target=arrays["target"], seed=3)
    assert all(np.array_equal(start[k], again[k]) for k in start)
    layer = spiking_layer(config)
    params = {k: jnp.asarray(start[k], dtype=jnp.float64) for k in WEIGHTS}
    state = {k: jnp.asarray(start[k], dtype=jnp.float64) for k in STATE}
    readout = layer(params, jnp.asarray(arrays["x"]), state)
    assert readout.shape == arrays["target"].shape and bool(jnp.isfinite(readout).all())
