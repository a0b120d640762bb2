"""A spiking layer for JAX: ``jax.custom_vjp`` around spikegrad's exact gradient.

The forward run and the backward pass run in spikegrad's kernels on the host (through
``jax.pure_callback``), so the layer can sit inside a jitted JAX model; JAX's cotangent of
the readout enters spikegrad as the linear loss (G = dL/do, docs/model.md section 6) and
the exact gradients of the inputs and parameters come back. float32 arrays run in f32,
float64 (with ``jax_enable_x64``) in f64.

Example::

    import jax, jax.numpy as jnp
    from spikegrad.jax import spiking_layer

    layer = spiking_layer(dict(h=1.0, tau=20.0, tau_s=30.0, gate="raised_cosine", delta=1.0))
    def loss(params, x, y):
        readout = layer(params, x)               # (T, B, n_out)
        return jnp.mean((readout[-20:].mean(0) - y) ** 2)
    grads = jax.grad(loss)(params, x, y)         # params: dict W U I0 O v0 s0

Each call of the backward pass runs the forward sweep again (spikegrad's gradient records
its own trajectory), so a training step costs one forward and one gradient sweep.
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import _layer

__all__ = ["spiking_layer"]


def spiking_layer(config):
    """``layer(params, x) -> readout``: params a dict of ``W U I0 O v0 s0`` (shapes as in
    :func:`spikegrad.gradient`), x (T, B, n_in); readout (T, B, n_out). Differentiable with
    respect to params and x by ``jax.grad`` / ``jax.vjp``, through spikegrad's exact
    adjoint."""
    config = _layer.linear_config(config)

    def host_readout(x, *params):
        x = np.asarray(x)
        precision = _layer.precision_of(x.dtype)
        params = dict(zip(_layer.PARAMETERS, map(np.asarray, params)))
        return _layer.readout(config, precision, x, params).astype(x.dtype)

    def host_backward(x, g, *params):
        x = np.asarray(x)
        precision = _layer.precision_of(x.dtype)
        params = dict(zip(_layer.PARAMETERS, map(np.asarray, params)))
        dx, dparams = _layer.backward(config, precision, x, params, np.asarray(g))
        cast = lambda a, like: np.asarray(a, dtype=like.dtype).reshape(like.shape)
        return (cast(dx, x),) + tuple(cast(dparams[n], params[n]) for n in _layer.PARAMETERS)

    def shape_of(params, x):
        n_out = params["O"].shape[0]
        return jax.ShapeDtypeStruct((x.shape[0], x.shape[1], n_out), x.dtype)

    @jax.custom_vjp
    def layer(params, x):
        ordered = [params[name] for name in _layer.PARAMETERS]
        return jax.pure_callback(host_readout, shape_of(params, x), x, *ordered)

    def layer_forward(params, x):
        return layer(params, x), (params, x)

    def layer_backward(residual, g):
        params, x = residual
        ordered = [params[name] for name in _layer.PARAMETERS]
        shapes = (jax.ShapeDtypeStruct(x.shape, x.dtype),) + tuple(
            jax.ShapeDtypeStruct(jnp.shape(p), jnp.result_type(p)) for p in ordered
        )
        dx, *dparams = jax.pure_callback(host_backward, shapes, x, g, *ordered)
        return dict(zip(_layer.PARAMETERS, dparams)), dx

    layer.defvjp(layer_forward, layer_backward)
    return layer
