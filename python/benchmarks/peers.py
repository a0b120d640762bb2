"""The same model's gradient in spikegrad and in JAX, timed side by side in one run.

    python python/benchmarks/peers.py [--configs S1,S2,S3,A1,A2] [--repeats 5] [--seed 2]

For each benchmark configuration of the project (docs/benchmarks.md: S1-S3 at about 20%
active neurons, A1-A2 at about 4%), this draws one problem in float32 (the theta neuron,
the raised-cosine gate, the explicit Euler step, masked MSE against random targets;
scales as `spikegrad-benches` draws them), then times

- `spikegrad.gradient(arrays, config, precision="f32", constants=False)`: the loss and
  the gradients of the parameters, inputs and initial state (what JAX computes),
  through the Python module (both cores for the large products);
- `jax.jit(jax.value_and_grad(loss))` of the same model written in JAX (`lax.scan` over
  the steps, XLA on the CPU), compiled first, the result waited for;

and prints each one's median over `--repeats` calls and the ratio JAX / spikegrad. The
two losses are printed too: equal to f32 rounding (amplified over the steps), they show
that both compute the same model. JAX is an optional dependency: `pip install jax`.
"""

import argparse
import statistics
import time

import numpy as np

import spikegrad

CONFIGURATIONS = {
    # name: (N, B, T, sparse)
    "S1": (128, 1, 4000, False),
    "S2": (256, 32, 2000, False),
    "S3": (1024, 16, 500, False),
    "A1": (512, 16, 1000, True),
    "A2": (2048, 8, 500, True),
}
CHANNELS = 2


def rest_phase(i0):
    """The stable rest phase of a theta neuron with current i0 < 0 (docs/model.md 1)."""
    return -np.arccos((1.0 + i0) / (1.0 - i0)) / np.pi


def problem(n, b, t, sparse, seed):
    """The arrays and config.json of one benchmark problem, float32."""
    rng = np.random.default_rng(seed)
    if sparse:
        config = dict(h=1.0, tau=20.0, tau_s=100.0, gate="raised_cosine", delta=0.3)
        bias_mean, recurrent_gain, shift = -0.1, 5.0, 97
    else:
        config = dict(h=2.0, tau=20.0, tau_s=1000.0, gate="raised_cosine", delta=1.0)
        bias_mean, recurrent_gain, shift = -0.3, 10.0, 0
    config["loss"] = dict(kind="mse")
    root = np.sqrt(n)
    i0 = rng.normal(bias_mean, 0.5, n)
    arrays = dict(
        W=rng.normal(0.0, recurrent_gain / root, (n, n)),
        U=rng.normal(0.0, 2.0, (n, CHANNELS)),
        I0=i0,
        O=rng.normal(0.0, 10.0 / root, (CHANNELS, n)),
    )
    resting = i0 < 0.0
    v0 = np.where(resting, rest_phase(np.minimum(i0, -1e-9)), 0.0)
    v0 = np.tile(v0, (b, 1))
    if sparse:
        firing = np.tile(~resting, (b, 1))
        v0[firing] = rng.uniform(-1.0, 1.0, firing.sum())
    steps = np.arange(t)[:, None] + shift * np.arange(b)[None, :]
    pulses = (steps % 400 < 25).astype(np.float64)
    arrays.update(
        v0=v0,
        s0=np.zeros((b, n)),
        x=np.repeat(pulses[:, :, None], CHANNELS, axis=2),
        target=rng.normal(0.0, 1.0, (t, b, CHANNELS)),
        mask=np.ones((t, b, CHANNELS)),
    )
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}, config


def jax_loss(config):
    """The loss of docs/model.md sections 2 and 6 (Euler step, masked MSE) in JAX."""
    import jax
    import jax.numpy as jnp

    h, tau, tau_s, delta = config["h"], config["tau"], config["tau_s"], config["delta"]
    k, decay = h / tau, 1.0 - h / tau_s

    def wrap(v):
        return v - 2.0 * jnp.floor((v + 1.0) / 2.0)

    def gate(v):
        x = wrap(v - 1.0)
        inside = jnp.abs(x) < delta / 2.0
        return jnp.where(inside, (1.0 + jnp.cos(2.0 * jnp.pi * x / delta)) / delta, 0.0)

    def loss(params, v0, s0, x, target, mask):
        w, u, i0, o = params

        def step(state, x_t):
            v, s = state
            current = i0 + s @ w.T + x_t @ u.T
            cos = jnp.cos(jnp.pi * v)
            dv = k * ((1.0 - cos) + (1.0 + cos) * current)
            s_next = decay * s + gate(v) * dv / tau_s
            return (wrap(v + dv), s_next), s_next @ o.T

        _, readout = jax.lax.scan(step, (v0, s0), x)
        return h / (2.0 * x.shape[1]) * jnp.sum(mask * (readout - target) ** 2)

    return jax.jit(jax.value_and_grad(loss))


def median_ms(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=",".join(CONFIGURATIONS))
    parser.add_argument("--repeats", type=int, default=5)
    # Seed 1's S1 draw overflows f32 over its 4000 Euler steps (a strongly inhibited
    # neuron's costate grows at every step: docs/training.md, "Which phase step").
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    try:
        import jax
    except ImportError:
        raise SystemExit("peers.py compares against JAX: pip install jax")
    names = args.configs.split(",")
    unknown = [name for name in names if name not in CONFIGURATIONS]
    if unknown or args.repeats < 1:
        raise SystemExit(f"--configs: unknown {unknown}; choose among {list(CONFIGURATIONS)}"
                         if unknown else "--repeats must be at least 1")
    print(f"spikegrad {spikegrad.__version__} ({spikegrad.backend()}), jax {jax.__version__} "
          f"({jax.devices()[0].platform}); float32; median of {args.repeats} calls")
    print("| config (N, B, T) | spikegrad | jax.jit(value_and_grad) | JAX / spikegrad "
          "| loss: spikegrad, JAX |")
    print("|---|---|---|---|---|")
    for name in names:
        n, b, t, sparse = CONFIGURATIONS[name]
        arrays, config = problem(n, b, t, sparse, args.seed)
        ours = lambda: spikegrad.gradient(arrays, config, precision="f32", constants=False)
        try:
            our_loss = ours()[0]
        except ValueError as e:
            print(f"| {name} ({n}, {b}, {t}) | {e} (another --seed draws another problem) | | | |")
            continue
        value_and_grad = jax_loss(config)
        params = tuple(jax.numpy.asarray(arrays[k]) for k in ("W", "U", "I0", "O"))
        data = [jax.numpy.asarray(arrays[k]) for k in ("v0", "s0", "x", "target", "mask")]
        theirs = lambda: jax.block_until_ready(value_and_grad(params, *data))
        their_loss = float(theirs()[0])  # compiles
        our_ms, their_ms = median_ms(ours, args.repeats), median_ms(theirs, args.repeats)
        print(f"| {name} ({n}, {b}, {t}) | {our_ms:.1f} ms | {their_ms:.1f} ms "
              f"| {their_ms / our_ms:.1f}x | {our_loss:.6g}, {their_loss:.6g} |", flush=True)


if __name__ == "__main__":
    main()
