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

PARAMETERS = ("W", "U", "I0", "O", "v0", "s0")


def _mse_in_jax(layer, h, b):
    """docs/model.md's masked MSE, written in JAX on the layer's readout."""

    def loss(params, x, target, mask):
        readout = layer(params, x)
        return h / b * 0.5 * jnp.sum(mask * (readout - target) ** 2)

    return loss


def test_jax_gradient_equals_spikegrads(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    expected_loss, expected = spikegrad.gradient(arrays, config)
    layer = spiking_layer(config)
    params = {name: jnp.asarray(arrays[name]) for name in PARAMETERS}
    loss = _mse_in_jax(layer, config["h"], arrays["x"].shape[1])
    args = (params, jnp.asarray(arrays["x"]), arrays["target"], arrays["mask"])
    value, (dparams, dx) = jax.value_and_grad(loss, argnums=(0, 1))(*args)
    assert abs(float(value) - expected_loss) <= 1e-12 * abs(expected_loss)
    for name in PARAMETERS:
        np.testing.assert_allclose(dparams[name], expected["d" + name], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dx, expected["dx"], rtol=1e-10, atol=1e-14)
    # Jitted, the same.
    jitted = jax.jit(jax.grad(loss))(*args)
    np.testing.assert_allclose(jitted["W"], expected["dW"], rtol=1e-10, atol=1e-14)


def test_jax_layer_in_float32_trains(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    layer = spiking_layer(config)
    params = {name: jnp.asarray(arrays[name], dtype=jnp.float32) for name in PARAMETERS}
    x = jnp.asarray(arrays["x"], dtype=jnp.float32)
    target = jnp.asarray(arrays["target"], dtype=jnp.float32)
    loss = lambda p: jnp.mean((layer(p, x) - target) ** 2)
    before = float(loss(params))
    for _ in range(20):
        grads = jax.grad(loss)(params)
        assert grads["W"].dtype == jnp.float32
        params = {k: params[k] - 0.05 * grads[k] for k in params}
    assert float(loss(params)) < before
