"""What the framework adapters (spikegrad.torch, spikegrad.jax) share: a spiking layer's
forward run and its backward pass from the framework's dL/do (the linear loss of
docs/model.md section 6, G = dL/do), on numpy arrays."""

import json

import numpy as np

import spikegrad

#: The layer's trainable parameters.
WEIGHTS = ("W", "U", "I0", "O")
#: The initial state every trial starts from (not trained unless the caller asks).
STATE = ("v0", "s0")
#: Both, in the order the adapters pass them to the kernels.
PARAMETERS = WEIGHTS + STATE


def linear_config(config):
    """``config`` (a dict as config.json) with the linear loss: the backward pass is the
    gradient of sum(G * readout), which is the framework's chain rule through the layer.
    A ``loss`` in ``config`` is dropped (the framework computes the loss)."""
    if isinstance(config, str):
        config = json.loads(config)
    config = {k: v for k, v in config.items() if k not in ("loss", "task")}
    config["loss"] = {"kind": "linear"}
    return config


def precision_of(dtype):
    """The precision of the sweeps for arrays of ``dtype``: f64 for float64, else f32."""
    return "f64" if np.dtype(dtype) == np.float64 else "f32"


def readout(config, precision, x, params):
    """o_1..o_T, (T, B, n_out), of the layer with ``params`` (dict) on inputs ``x``."""
    arrays = dict(params, x=x)
    return spikegrad.forward(arrays, config, precision)["readout"]


def backward(config, precision, x, params, g):
    """(dL/dx, {name: dL/dparam}) for the framework's ``g`` = dL/do, (T, B, n_out)."""
    arrays = dict(params, x=x, G=g)
    _, grads = spikegrad.gradient(arrays, config, precision, constants=False)
    return grads["dx"], {name: grads["d" + name] for name in PARAMETERS}
