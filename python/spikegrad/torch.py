"""A spiking layer for PyTorch: a ``torch.autograd.Function`` around spikegrad's exact
gradient, and an ``nn.Module`` holding the layer's parameters.

The forward run and the backward pass run in spikegrad's kernels (CPU tensors are read
without a copy where they are contiguous); PyTorch's gradient of the readout enters
spikegrad as the linear loss (G = dL/do, docs/model.md section 6) and the exact gradients
of the inputs and parameters come back. float64 tensors run in f64, others in f32.

Example::

    import torch, spikegrad
    from spikegrad.torch import SpikingLayer

    config = dict(h=1.0, tau=20.0, tau_s=30.0, gate="raised_cosine", delta=1.0)
    start = spikegrad.initial_model(dict(config, loss=dict(kind="mse")), x.numpy(), 64, target=y.numpy())
    layer = SpikingLayer(n=64, n_in=2, n_out=1, config=config, init=start)
    readout = layer(x)                      # x: (T, B, n_in) -> (T, B, n_out)
    loss = ((readout[-20:].mean(0) - y) ** 2).mean()
    loss.backward()                         # layer.W.grad, ... by the exact adjoint

The backward pass runs the forward sweep again (spikegrad's gradient records its own
trajectory), so a training step costs one forward and one gradient sweep.
"""

import math

import numpy as np
import torch

from . import _layer

__all__ = ["SpikingFunction", "SpikingLayer"]


def _numpy(tensor):
    return tensor.detach().cpu().contiguous().numpy()


class SpikingFunction(torch.autograd.Function):
    """``SpikingFunction.apply(config, x, W, U, I0, O, v0, s0) -> readout`` (T, B, n_out);
    ``config`` a dict as config.json (its loss is replaced by the linear loss)."""

    @staticmethod
    def forward(ctx, config, x, W, U, I0, O, v0, s0):
        config = _layer.linear_config(config)
        params = dict(zip(_layer.PARAMETERS, map(_numpy, (W, U, I0, O, v0, s0))))
        x_np = _numpy(x)
        precision = _layer.precision_of(x_np.dtype)
        readout = _layer.readout(config, precision, x_np, params)
        ctx.config, ctx.precision = config, precision
        ctx.save_for_backward(x, W, U, I0, O, v0, s0)
        return torch.from_numpy(readout).to(dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, grad_readout):
        x, *tensors = ctx.saved_tensors
        params = dict(zip(_layer.PARAMETERS, map(_numpy, tensors)))
        dx, dparams = _layer.backward(
            ctx.config, ctx.precision, _numpy(x), params, _numpy(grad_readout)
        )
        back = lambda a, like: torch.from_numpy(np.ascontiguousarray(a)).to(
            dtype=like.dtype, device=like.device
        ).reshape(like.shape)
        grads = [back(dparams[n], t) for n, t in zip(_layer.PARAMETERS, tensors)]
        return (None, back(dx, x), *grads)


class SpikingLayer(torch.nn.Module):
    """A recurrent layer of ``n`` theta neurons with gated synapses, read out linearly:
    parameters ``W`` (n, n), ``U`` (n, n_in), ``I0`` (n,), ``O`` (n_out, n), and the initial
    state ``v0``, ``s0`` (n,) shared by every trial, kept as buffers: an optimiser given
    ``layer.parameters()`` never trains the state (make them parameters to train it).

    ``init``: a dict of the six arrays to start from, e.g. the start ``spikegrad train
    task`` draws, from :func:`spikegrad.initial_model` (recommended: its scales are read
    from the data). Without it, a quiet, excitable start (I0 ~ N(-0.1, 0.5^2), W ~ N(0,
    1/n), U ~ N(0, 1), O ~ N(0, 1/n), every neuron at its rest phase, s0 = 0). ``dtype``
    float32 by default."""

    def __init__(self, n, n_in, n_out, config, dtype=torch.float32, generator=None, init=None):
        super().__init__()
        self.config = _layer.linear_config(config)
        if init is None:
            normal = lambda *shape, sd: torch.randn(*shape, generator=generator, dtype=dtype) * sd
            init = dict(W=normal(n, n, sd=1 / math.sqrt(n)), U=normal(n, n_in, sd=1.0),
                        I0=normal(n, sd=0.5) - 0.1, O=normal(n_out, n, sd=1 / math.sqrt(n)))
            i0 = init["I0"].clamp(max=0.0)
            rest = -torch.arccos((1 + i0) / (1 - i0)) / math.pi
            init.update(v0=torch.where(init["I0"] < 0, rest, torch.zeros_like(rest)),
                        s0=torch.zeros(n, dtype=dtype))
        shapes = dict(W=(n, n), U=(n, n_in), I0=(n,), O=(n_out, n), v0=(n,), s0=(n,))
        values = {}
        for name, shape in shapes.items():
            if name not in init:
                raise ValueError(f"init: missing {name!r} (it needs W U I0 O v0 s0)")
            value = init[name]
            if isinstance(value, torch.Tensor):
                value = value.detach()
            value = torch.as_tensor(np.asarray(value), dtype=dtype)
            if tuple(value.shape) != shape:
                raise ValueError(f"init[{name!r}]: shape {list(value.shape)}, expected {list(shape)}")
            values[name] = value.clone()
        for name in _layer.WEIGHTS:
            setattr(self, name, torch.nn.Parameter(values[name]))
        for name in _layer.STATE:
            self.register_buffer(name, values[name])

    def forward(self, x):
        """x (T, B, n_in) -> readout (T, B, n_out)."""
        return SpikingFunction.apply(
            self.config, x, self.W, self.U, self.I0, self.O, self.v0, self.s0
        )
