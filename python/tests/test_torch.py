"""spikegrad.torch: a PyTorch loss through the spiking layer differentiates to
spikegrad's own gradient of the same loss. Skipped where PyTorch is not installed (its
PyPI wheel with CUDA libraries is several GB; CI installs JAX instead)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import spikegrad  # noqa: E402
from spikegrad.torch import SpikingFunction, SpikingLayer  # noqa: E402
from conftest import random_case  # noqa: E402

PARAMETERS = ("W", "U", "I0", "O", "v0", "s0")


def test_torch_gradient_equals_spikegrads(rng):
    arrays, config = random_case(rng, loss="mse", shared_state=True)
    expected_loss, expected = spikegrad.gradient(arrays, config)
    tensors = {name: torch.tensor(arrays[name], requires_grad=True) for name in PARAMETERS}
    x = torch.tensor(arrays["x"], requires_grad=True)
    readout = SpikingFunction.apply(config, x, *(tensors[name] for name in PARAMETERS))
    b = arrays["x"].shape[1]
    target, mask = torch.tensor(arrays["target"]), torch.tensor(arrays["mask"])
    loss = config["h"] / b * 0.5 * (mask * (readout - target) ** 2).sum()
    loss.backward()
    assert abs(loss.item() - expected_loss) <= 1e-12 * abs(expected_loss)
    for name in PARAMETERS:
        np.testing.assert_allclose(tensors[name].grad.numpy(), expected["d" + name], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), expected["dx"], rtol=1e-10, atol=1e-14)


def test_torch_layer_trains_with_an_optimizer(rng):
    torch.manual_seed(0)
    config = dict(h=1.0, tau=20.0, tau_s=30.0, gate="raised_cosine", delta=1.0)
    layer = SpikingLayer(n=24, n_in=2, n_out=1, config=config)
    x = torch.tensor(rng.normal(size=(60, 8, 2)), dtype=torch.float32)
    target = torch.tensor(rng.normal(size=(60, 8, 1)), dtype=torch.float32)
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        assert layer.W.grad.dtype == torch.float32
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_the_state_is_a_buffer_and_init_starts_the_layer(rng):
    arrays, config = random_case(rng, loss="mse", n=16, b=8, t=60)
    start = spikegrad.initial_model(config, arrays["x"], 16, target=arrays["target"])
    layer = SpikingLayer(n=16, n_in=2, n_out=3, config=config, init=start)
    assert {name for name, _ in layer.named_parameters()} == {"W", "U", "I0", "O"}
    assert set(dict(layer.named_buffers())) == {"v0", "s0"}
    np.testing.assert_array_equal(layer.W.detach().numpy(), start["W"])
    with pytest.raises(ValueError, match=r"init\['O'\]: shape \[3, 16\], expected \[2, 16\]"):
        SpikingLayer(n=16, n_in=2, n_out=2, config=config, init=start)
