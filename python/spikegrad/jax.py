"""A spiking layer for JAX: ``jax.custom_vjp`` around spikegrad's exact gradient.

The forward run and the backward pass run in spikegrad's kernels on the host (through
``jax.pure_callback``), so the layer can sit inside a jitted JAX model; JAX's cotangent of
the readout enters spikegrad as the linear loss (G = dL/do, docs/model.md section 6) and
the exact gradients of the inputs and parameters come back. float32 arrays run in f32,
float64 (with ``jax_enable_x64``) in f64.

The trainable parameters (``W U I0 O``) and the initial state (``v0 s0``) are separate
arguments, so that an optimiser given the parameters never trains the state::

    import jax, jax.numpy as jnp, spikegrad
    from spikegrad.jax import spiking_layer

    config = dict(h=1.0, tau=20.0, tau_s=30.0, gate="raised_cosine", delta=1.0)
    layer = spiking_layer(config)
    start = spikegrad.initial_model(dict(config, loss=dict(kind="mse")), x, 64, target=y)
    params = {k: jnp.asarray(start[k]) for k in ("W", "U", "I0", "O")}
    def loss(params, x, y):
        readout = layer(params, x)               # (T, B, n_out); the state: every neuron at rest
        return jnp.mean((readout - y) ** 2)
    grads = jax.grad(loss)(params, x, y)

``layer(params, x, state)`` with ``state = {"v0": ..., "s0": ...}`` ((N,) or (B, N)) starts
the trials from another state; ``jax.grad(..., argnums=2)`` gives its gradient. Each call
of the backward pass runs the forward sweep again (spikegrad's gradient records its own
trajectory), so a training step costs one forward and one gradient sweep.

A fault raises ``ValueError`` naming it when the layer is traced (a missing or unknown
parameter, a shape that does not fit) and, called outside ``jit``, for a NaN or infinity
in its arguments. Under ``jit`` a fault only the values show (a NaN, a run whose state
overflows) raises inside the computation: JAX reports it as an error of the host
callback, whose message ends with spikegrad's line (``ValueError: spikegrad layer:
arrays['x']: element [3, 1, 0] is NaN: ...``).
"""

import jax
import jax.numpy as jnp
import numpy as np

from . import _layer

__all__ = ["spiking_layer"]

#: What ``vmap_method`` accepts: how ``jax.vmap`` maps the layer. "sequential" calls the
#: kernels once per mapped element (each a batch of trials of its own).
VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all")


def _shape(name, value):
    try:
        return tuple(jnp.shape(value))
    except TypeError:
        raise ValueError(f"{name}: not an array ({type(value).__name__})") from None


def _check(params, x, state):
    """Raises ValueError for a fault the shapes show; returns (N, n_in, n_out)."""
    if not hasattr(params, "keys"):
        raise ValueError(f"params must be a dict of W U I0 O, not {type(params).__name__}")
    for name in _layer.STATE:
        if name in params:
            raise ValueError(
                f"params[{name!r}]: the initial state is not a trainable parameter; "
                f"pass it as the layer's third argument, state={{'v0': ..., 's0': ...}}"
            )
    unknown = sorted(set(params) - set(_layer.WEIGHTS))
    missing = [name for name in _layer.WEIGHTS if name not in params]
    if unknown or missing:
        raise ValueError(
            f"params: {'missing ' + repr(missing) if missing else ''}"
            f"{'; ' if missing and unknown else ''}{'unknown ' + repr(unknown) if unknown else ''}"
            f" (the layer's parameters are W (N, N), U (N, n_in), I0 (N,), O (n_out, N))"
        )
    x_shape = _shape("x", x)
    if len(x_shape) != 3:
        raise ValueError(f"x: shape {list(x_shape)}, expected (T, B, n_in)")
    shapes = {name: _shape(f"params[{name!r}]", params[name]) for name in _layer.WEIGHTS}
    if len(shapes["I0"]) != 1:
        raise ValueError(f"params['I0']: shape {list(shapes['I0'])}, expected (N,)")
    n = shapes["I0"][0]
    n_in, n_out = x_shape[2], shapes["O"][0] if shapes["O"] else None
    expected = {"W": (n, n), "U": (n, n_in), "I0": (n,), "O": (n_out, n)}
    for name, want in expected.items():
        if shapes[name] != want:
            raise ValueError(
                f"params[{name!r}]: shape {list(shapes[name])}, expected {list(want)} "
                f"(N = {n} from I0, n_in = {n_in} from x (T, B, n_in))"
            )
    if state is not None:
        if not hasattr(state, "keys") or set(state) != set(_layer.STATE):
            raise ValueError("state must be a dict of exactly v0 and s0, (N,) or (B, N)")
        for name in _layer.STATE:
            shape = _shape(f"state[{name!r}]", state[name])
            if shape not in ((n,), (x_shape[1], n)):
                raise ValueError(
                    f"state[{name!r}]: shape {list(shape)}, expected [{n}] or "
                    f"[{x_shape[1]}, {n}] (N = {n}, B = {x_shape[1]})"
                )
    return n, n_in, n_out


def _check_values(named):
    """Outside ``jit`` (concrete arrays), a NaN or infinity is named here, before the
    kernels run; under ``jit`` the values are not known until the computation runs."""
    for name, value in named:
        if isinstance(value, jax.core.Tracer):
            return
        array = np.asarray(value)
        bad = np.argwhere(~np.isfinite(array))
        if len(bad):
            at = tuple(int(i) for i in bad[0])
            raise ValueError(f"{name}: element {list(at)} is {array[at]}: every value must be finite")


def rest_state(i0):
    """Every neuron at rest: v0 its rest phase -acos((1 + I0)/(1 - I0))/pi for I0 < 0 (0
    for a neuron that fires on its own), s0 = 0; without a gradient to I0."""
    i0 = jax.lax.stop_gradient(i0)
    below = jnp.minimum(i0, 0.0)
    v0 = jnp.where(i0 < 0.0, -jnp.arccos((1.0 + below) / (1.0 - below)) / jnp.pi, 0.0)
    return {"v0": v0.astype(i0.dtype), "s0": jnp.zeros_like(i0)}


def _host(function):
    """``function`` for the host callback, its faults as one line that names the layer."""

    def call(*args):
        try:
            return function(*args)
        except ValueError as e:
            raise ValueError(f"spikegrad layer: {e}") from None

    return call


def spiking_layer(config, vmap_method="sequential"):
    """``layer(params, x, state=None) -> readout``: ``params`` a dict of ``W U I0 O``
    (shapes as in :func:`spikegrad.gradient`), ``x`` (T, B, n_in), ``state`` a dict of
    ``v0 s0`` or None for every neuron at rest (:func:`rest_state`); the readout (T, B,
    n_out). Differentiable with respect to params, x and state by ``jax.grad`` /
    ``jax.vjp``, through spikegrad's exact adjoint. ``vmap_method`` tells
    ``jax.pure_callback`` how ``jax.vmap`` maps the layer (:data:`VMAP_METHODS`)."""
    if vmap_method not in VMAP_METHODS:
        raise ValueError(f"vmap_method={vmap_method!r}: must be one of {VMAP_METHODS}")
    config = _layer.linear_config(config)

    def arrays(x, values):
        return np.asarray(x), dict(zip(_layer.PARAMETERS, map(np.asarray, values)))

    @_host
    def host_readout(x, *values):
        x, params = arrays(x, values)
        return _layer.readout(config, _layer.precision_of(x.dtype), x, params).astype(x.dtype)

    @_host
    def host_backward(x, g, *values):
        x, params = arrays(x, values)
        precision = _layer.precision_of(x.dtype)
        dx, dparams = _layer.backward(config, precision, x, params, np.asarray(g))
        cast = lambda a, like: np.asarray(a, dtype=like.dtype).reshape(like.shape)
        return (cast(dx, x),) + tuple(cast(dparams[n], params[n]) for n in _layer.PARAMETERS)

    def ordered(params, state):
        return [params[n] for n in _layer.WEIGHTS] + [state[n] for n in _layer.STATE]

    @jax.custom_vjp
    def apply(params, x, state):
        n_out = jnp.shape(params["O"])[0]
        shape = jax.ShapeDtypeStruct((x.shape[0], x.shape[1], n_out), x.dtype)
        return jax.pure_callback(
            host_readout, shape, x, *ordered(params, state), vmap_method=vmap_method
        )

    def apply_forward(params, x, state):
        return apply(params, x, state), (params, x, state)

    def apply_backward(residual, g):
        params, x, state = residual
        values = ordered(params, state)
        shapes = (jax.ShapeDtypeStruct(x.shape, x.dtype),) + tuple(
            jax.ShapeDtypeStruct(jnp.shape(p), jnp.result_type(p)) for p in values
        )
        dx, *dvalues = jax.pure_callback(
            host_backward, shapes, x, g, *values, vmap_method=vmap_method
        )
        grads = dict(zip(_layer.PARAMETERS, dvalues))
        dparams = {n: grads[n] for n in _layer.WEIGHTS}
        return dparams, dx, {n: grads[n] for n in _layer.STATE}

    apply.defvjp(apply_forward, apply_backward)

    def layer(params, x, state=None):
        _check(params, x, state)
        named = [("x", x)] + [(f"params[{n!r}]", params[n]) for n in _layer.WEIGHTS]
        if state is not None:
            named += [(f"state[{n!r}]", state[n]) for n in _layer.STATE]
        _check_values(named)
        if state is None:
            state = rest_state(jnp.asarray(params["I0"]))
        return apply(dict(params), x, dict(state))

    return layer
