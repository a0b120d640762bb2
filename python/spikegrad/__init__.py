"""spikegrad: exact gradients for spiking neural networks, from Python.

Huh & Sejnowski, "Gradient Descent for Spiking Neural Networks" (NeurIPS 2018): theta
neurons whose synapses are driven by a smooth gate on the presynaptic phase, so that the
network is a differentiable dynamical system; the exact gradient of a loss comes from the
adjoint (costate) dynamics run backward in time. The sweeps run in the Rust kernels of the
spikegrad workspace, with the GIL released. The mathematical contract is docs/model.md of
the repository; the arrays and config are those of a case folder (docs/formats.md,
"Case folder").

Two lines::

    import spikegrad
    loss, grads = spikegrad.gradient(arrays, config)   # arrays: dict of numpy arrays

``arrays`` holds ``W U I0 O v0 s0 x`` and what the config's loss asks for (``target`` and
``mask`` for "mse", ``labels`` for "cross_entropy", ``G`` for "linear"), optionally
``W_mask``, ``I_ext``, and per-neuron ``tau`` / ``tau_s`` where the config names files
for them (``"tau": "tau.npy"``). ``config`` is a dict like config.json.

Invalid input raises ``ValueError`` naming the array or the config key, with the fault the
command line names for the same case folder (e.g. ``"arrays['x']: shape [10, 4, 3],
expected (T, B, n_in) = [10, 4, 2] (...)"``, ``"config: missing key 'tau_s'"``).
"""

import json as _json
import os as _os
import warnings as _warnings

import numpy as _np

from . import _native

__version__ = _native.__version__
__all__ = [
    "gradient",
    "forward",
    "load_model",
    "save_model",
    "initial_model",
    "train_task",
    "train_xor",
    "train_predict",
    "train_efficient_coding",
    "run",
    "make_task",
    "make_task_yin_yang",
    "backend",
    "DTYPES",
]

#: The precisions and the numpy dtype each computes in.
DTYPES = {"f32": _np.float32, "f64": _np.float64}

# The arrays of a loss, which a forward run does not read.
_LOSS_ARRAYS = {"target.npy", "mask.npy", "G.npy", "labels.npy"}


def _config_text(config):
    """config.json's text for a dict (or a JSON string)."""
    if isinstance(config, str):
        return config
    if not isinstance(config, dict):
        raise ValueError(
            f"config: must be a dict (or JSON text), not {type(config).__name__}"
        )
    try:
        return _json.dumps(config, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"config: invalid JSON: {e}") from None


def _dtype(precision):
    try:
        return DTYPES[precision]
    except (KeyError, TypeError):
        raise ValueError(f'precision {precision!r} is not "f32" or "f64"') from None


def _prepare(arrays, dtype):
    """The arrays as the kernels read them: C-contiguous, floats in ``dtype``, labels in
    int64. An array that already is so is passed on as it is (no copy); numbers, bools and
    lists are converted, like numpy's own functions do."""
    if not isinstance(arrays, dict):
        raise ValueError(f"arrays must be a dict of numpy arrays, not {type(arrays).__name__}")
    prepared = {}
    for name, value in arrays.items():
        if not isinstance(name, str):
            raise ValueError(f"arrays: key {name!r}: names must be strings")
        try:
            array = _np.asarray(value)
        except Exception as e:  # a ragged list, an object numpy cannot hold
            raise ValueError(f"arrays[{name!r}]: not an array: {e}") from None
        if name == "labels":
            if array.dtype.kind not in "iu":
                raise ValueError(
                    f"arrays['labels']: dtype {array.dtype} is not an integer type: labels are class indices"
                )
            prepared[name] = _np.ascontiguousarray(array, dtype=_np.int64)
        else:
            if array.dtype.kind not in "biuf":
                raise ValueError(
                    f"arrays[{name!r}]: dtype {array.dtype} is not a real number type (float32 or float64)"
                )
            prepared[name] = _np.ascontiguousarray(array, dtype=dtype)
    return prepared


def _warn_unused(unused, why):
    for file in unused:
        _warnings.warn(f"{file} is not used by this case ({why}); ignored", stacklevel=3)


def gradient(arrays, config, precision="f64", constants=True):
    """The loss and every gradient of docs/model.md sections 3, 5, 6 and 7.

    Parameters
    ----------
    arrays : dict of str -> array_like
        Named as the files of a case folder (without ``.npy``): ``W`` (N, N), ``U``
        (N, n_in), ``I0`` (N,), ``O`` (n_out, N), ``v0`` and ``s0`` ((B, N), or (N,): one
        state for every trial), ``x`` (T, B, n_in); the loss's arrays (``target`` and
        ``mask`` (T, B, n_out); ``labels`` (B,) integers; ``G`` (T, B, n_out)); optional
        ``W_mask`` (N, N), ``I_ext`` (T, B, N); per-neuron ``tau`` / ``tau_s`` (N,) under the
        stem of the file the config names for them.
    config : dict
        As config.json: ``h tau tau_s gate delta`` and optional ``neuron``, ``loss``.
    precision : "f64" or "f32"
        The precision of the sweeps and of the returned gradients. Arrays already
        C-contiguous in this dtype are read in place, without a copy.
    constants : bool
        Whether to compute the gradients of the time constants and of the gate width
        (``dconfig``, ``dtau``, ``dtau_s``): one more pass per reverse step, and the
        reverse sweep then runs dense, so that a network at a few percent activity
        computes the rest about twice as fast without them.

    Returns
    -------
    (loss, grads) : (float, dict)
        ``grads`` holds ``dW dU dI0 dO dv0 ds0 dx`` (``dv0``/``ds0`` of the shape given),
        ``dI_ext`` when ``I_ext`` was given, ``dtau``/``dtau_s`` (N,) for per-neuron
        constants, and ``"dconfig"``: a dict with dL/dtau, dL/dtau_s (where shared) and
        dL/dDelta (None for the boxcar gate); without ``constants``, ``dconfig`` holds
        ``delta: None`` only and ``dtau``/``dtau_s`` are absent.

    Raises
    ------
    ValueError
        For any invalid input, with the command line's one-line message; also when the
        run itself fails (a state that overflows the precision).

    Examples
    --------
    >>> import numpy as np, spikegrad
    >>> rng = np.random.default_rng(0)
    >>> N, n_in, n_out, B, T = 8, 2, 1, 3, 50
    >>> arrays = dict(W=rng.normal(size=(N, N)), U=rng.normal(size=(N, n_in)),
    ...               I0=rng.normal(size=N), O=rng.normal(size=(n_out, N)),
    ...               v0=np.zeros((B, N)), s0=np.zeros((B, N)),
    ...               x=rng.normal(size=(T, B, n_in)),
    ...               target=np.zeros((T, B, n_out)), mask=np.ones((T, B, n_out)))
    >>> config = dict(h=1.0, tau=20.0, tau_s=50.0, gate="raised_cosine", delta=1.0)
    >>> loss, grads = spikegrad.gradient(arrays, config)
    >>> grads["dW"].shape, sorted(grads["dconfig"])
    ((8, 8), ['delta', 'tau', 'tau_s'])
    """
    dtype = _dtype(precision)
    loss, grads, dconfig, unused = _native.gradient(
        _prepare(arrays, dtype), _config_text(config), precision, bool(constants)
    )
    _warn_unused(unused, "not an array of this case's network, trials or loss")
    grads["dconfig"] = _json.loads(dconfig)
    return loss, grads


def forward(arrays, config, precision="f64"):
    """A forward run (docs/model.md sections 2 and 5) of the case ``arrays``, ``config``
    (as for :func:`gradient`; the loss's arrays are not needed).

    Returns a dict: ``readout`` (T, B, n_out); ``spikes`` (M, 3) int64, rows [trial,
    neuron, step] sorted by trial, step, neuron, where step t is the step whose update
    wrapped the phase (so ``readout[t]`` is the first readout after the spike); ``v_T``
    and ``s_T`` (B, N), the state after the last step.

    >>> import numpy as np, spikegrad
    >>> arrays = dict(W=np.zeros((2, 2)), U=np.ones((2, 1)), I0=np.full(2, 0.5),
    ...               O=np.ones((1, 2)), v0=np.zeros(2), s0=np.zeros(2), x=np.zeros((100, 1, 1)))
    >>> out = spikegrad.forward(arrays, dict(h=1.0, tau=10.0, tau_s=20.0, gate="raised_cosine", delta=1.0))
    >>> out["readout"].shape, out["spikes"].shape[1], len(out["spikes"]) > 0
    ((100, 1, 1), 3, True)
    """
    dtype = _dtype(precision)
    out, unused = _native.forward(_prepare(arrays, dtype), _config_text(config), precision)
    _warn_unused(
        [f for f in unused if f not in _LOSS_ARRAYS], "not an array of this case's network or trials"
    )
    return out


def load_model(path):
    """Reads a model folder (what ``spikegrad train`` writes): ``(arrays, config)``.

    ``arrays`` holds ``W U I0 O v0 s0`` in float32 (v0, s0 of shape (N,): every trial
    starts from them), and ``tau``, ``tau_s``, ``W_mask`` where the model has them;
    ``config`` is its config.json as a dict (per-neuron constants named "tau.npy",
    "tau_s.npy"). Add ``x`` and a loss's arrays and the pair is a case for
    :func:`gradient` or :func:`forward`. Every file is checked as ``spikegrad run`` checks
    it: ``ValueError`` names the file at fault.
    """
    arrays, config = _native.load_model(_os.fspath(path))
    return arrays, _json.loads(config)


def save_model(path, arrays, config):
    """Writes a model folder: ``config`` (a dict as config.json) and the arrays ``W U I0 O
    v0 s0`` (and ``tau``/``tau_s`` where ``config`` names "tau.npy"/"tau_s.npy", an
    optional ``W_mask``), as :func:`load_model` returns them. The folder is checked as
    ``spikegrad run`` reads it before it replaces ``path`` whole (which must be new, empty
    or a model folder); on an error nothing is written."""
    prepared = {}
    if not isinstance(arrays, dict):
        raise ValueError(f"arrays must be a dict of numpy arrays, not {type(arrays).__name__}")
    for name, value in arrays.items():
        array = _np.asarray(value)
        if array.dtype not in (_np.float32, _np.float64):
            array = array.astype(_np.float64) if array.dtype.kind in "biuf" else array
        prepared[name] = _np.ascontiguousarray(array)
    _native.save_model(_os.fspath(path), prepared, _config_text(config))


def _paths(options, keys=("out",)):
    """Path-like keyword values as strings."""
    for key in keys:
        if options.get(key) is not None:
            options[key] = _os.fspath(options[key])
    return options


def initial_model(config, x, neurons=128, *, target=None, mask=None, labels=None, seed=1,
                  input_current=2.0, recurrent_current=0.15, readout_scale=1.0):
    """A fresh network for the trials ``x`` (T, K, n_in): the start ``spikegrad train
    task`` draws, with its defaults, so that a model trained in Python (PyTorch, JAX, your
    own loop) starts where the command line's trainer does.

    I0 ~ N(-0.1, 0.5^2): a quiet, excitable start, each resting neuron at its rest phase
    (``v0``) with no synaptic current (``s0`` = 0). U is scaled per input channel by the
    channel's RMS over ``x``, so that the input current has standard deviation
    ``input_current`` whatever the inputs' units; the synaptic currents of the network
    without recurrence are measured on the first 64 trials, and W and O are drawn so that
    the recurrent current has standard deviation ``recurrent_current`` and the readout
    starts at ``readout_scale`` times the target's RMS (1 for classes). ``config`` is a
    dict like config.json; its loss says which data the scales read: ``target`` (and
    optionally ``mask``) (T, K, n_out) for "mse" and "linear", ``labels`` (K,) for
    "cross_entropy" (n_out: ``loss["classes"]``, else 1 + the largest label).

    Returns ``{"W", "U", "I0", "O", "v0", "s0"}`` as float32 arrays, the state of shape
    (N,) (every trial starts from it). The same ``seed`` gives the same draw as
    ``train task --seed``.

    >>> import numpy as np, spikegrad
    >>> config = dict(h=1.0, tau=20.0, tau_s=30.0, gate="raised_cosine", delta=1.0,
    ...               loss=dict(kind="cross_entropy", from_step=50, to_step=100))
    >>> x = np.random.default_rng(0).normal(size=(100, 32, 2))
    >>> model = spikegrad.initial_model(config, x, neurons=16, labels=np.arange(32) % 3)
    >>> {name: a.shape for name, a in model.items()}["O"]
    (3, 16)
    >>> bool((model["s0"] == 0).all() and (np.abs(model["v0"]) <= 1).all())
    True
    """
    def array(name, value, ndim, dtype):
        if value is None:
            return None
        try:
            value = _np.ascontiguousarray(value, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name}: not an array of numbers: {e}") from None
        if value.ndim != ndim:
            raise ValueError(f"{name}: {value.ndim} dimensions {list(value.shape)}, expected {ndim}")
        return value

    if isinstance(neurons, bool) or not isinstance(neurons, int) or neurons < 1:
        raise ValueError(f"neurons={neurons!r}: must be an integer of at least 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be an integer of at least 0")
    if labels is not None and _np.asarray(labels).dtype.kind not in "iu":
        raise ValueError(f"labels: dtype {_np.asarray(labels).dtype} is not an integer type")
    return _native.initial_model(
        _config_text(config),
        array("x", x, 3, _np.float32),
        neurons,
        array("target", target, 3, _np.float32),
        array("mask", mask, 3, _np.float32),
        array("labels", labels, 1, _np.int64),
        seed,
        float(input_current),
        float(recurrent_current),
        float(readout_scale),
    )


def train_task(task_dir, **options):
    """Trains a network on the task folder ``task_dir`` (docs: "Your own data") and writes
    the output folder: the model of the best held-out check, ``metrics.json`` and
    ``checkpoint/``. Keywords, all optional: ``out`` (default ``runs/<name>-<seed>``),
    ``val`` (a task folder of held-out trials), ``init`` (a model folder, or an output
    folder to resume), ``neurons`` (default 128, 64 when no probe learned), ``iterations``
    (default: as many as fit in ``time_limit``), ``batch``, ``learning_rate`` (default:
    chosen by short probe runs among ``probe_learning_rates``), ``readout_learning_rate``,
    ``final_rate``, ``clip``
    ("global"/"per_parameter"/"none"), ``clip_norm``, ``input_current``,
    ``recurrent_current`` (or chosen among ``probe_recurrent_currents``),
    ``readout_scale``, ``probe_learning_rates``, ``probe_recurrent_currents``,
    ``probe_iterations``, ``seed``, ``precision`` ("f32"/"f64"), ``train_time_constants``,
    ``step`` ("euler"/"midpoint"), ``eval_every``, ``patience``, ``checkpoint_minutes``,
    ``time_limit`` (seconds, probes included), ``pause_at``, and ``on_check``: a callable
    given a dict at each held-out check (iteration, seconds, loss, accuracy, nmse,
    gradient norms); without it each check prints a line to ``sys.stderr``, as do the
    probes and the plan. The defaults are the command line's (``spikegrad train task
    --help``). An unknown keyword raises ``TypeError``. Ctrl-C raises
    ``KeyboardInterrupt`` within a training step, after saving a checkpoint that
    ``init=out`` resumes.

    Returns a dict: ``out``, ``iterations``, ``kept_iteration``, ``stopped``,
    ``held_out_trials``, ``loss``, ``accuracy`` (classification) or ``nmse`` (MSE),
    ``firing_rate_hz``, ``skipped_steps``, ``seconds``, ``back_offs`` (the iterations
    after which the run went back to its best model at half the rate, ``metrics.json``'s
    "back_offs"), and ``plan``: what the run followed and what chose it
    (``metrics.json``'s "plan"). The figures are the command line's (``spikegrad train
    task``)."""
    return _native.train_task(_os.fspath(task_dir), **_paths(options, ("out", "val", "init")))


def train_xor(**options):
    """Trains the delayed-memory XOR (docs: the paper's tasks) and writes the output folder
    (the kept model and ``metrics.json``; the figures are the command line's). Keywords,
    all optional: ``out`` (default ``runs/xor-<seed>``), ``seed``, ``neurons``, ``batch``,
    ``max_iterations``, ``learning_rate``, ``eval_every``, ``precision``,
    ``train_time_constants``, ``step``, ``h``, ``restart_after``, ``start`` ("latch" or
    "random") and ``on_check`` (a callable given a dict at each held-out check). Returns
    the test scores: ``overall``, ``per_pattern`` (--, -+, +-, ++), ``median_signed_readout``,
    ``mean_abs_readout``, ``iterations``, ``kept_iteration``, ``restarts``, ``test_loss``,
    ``firing_rate_hz``, ``seconds``, ``out``."""
    return _native.train_xor(**_paths(options))


def train_predict(**options):
    """Trains predictive coding, a network with W learned and one with W = 0, at
    ``rate_penalty`` (default 0), and writes the output folder (the W-learned model, ``w0/``,
    ``metrics.json``). Keywords as ``train_xor``'s (but ``start``, ``restart_after``), with
    ``tau``, ``tau_s``, ``trial_ms``. Returns ``{"learned": ..., "w0": ...}``: each network's
    ``test_nmse``, ``test_nmse_from_50ms``, ``firing_rate_hz``, ``kept_iteration``."""
    return _native.train_predict(**_paths(options))


def train_efficient_coding(**options):
    """Efficient coding: predictive coding at each of ``penalties`` (default
    ``[0, 1e5, 1e6, 1e7]``), W learned and W = 0, every network scored on the same test
    trials; writes the output folder (every network and ``metrics.json``). Keywords as
    ``train_predict``'s. Returns ``{"networks": [{"learned": ..., "w0": ...}, ...],
    "learned_over_w0": ...}``, the ratio of the fewest spikes at held-out NMSE <= 0.05
    (None where a code does not reach it)."""
    if options.get("penalties") is not None:
        options["penalties"] = [float(p) for p in options["penalties"]]
    return _native.train_efficient_coding(**_paths(options))


def run(model_dir, data_dir, **options):
    """Runs the saved model ``model_dir`` on the data folder ``data_dir`` (``x.npy``,
    optional ``I_ext.npy``, ``labels.npy``), streamed over trials, and writes ``out``
    (default ``data_dir/run``): ``readout.npy``, ``spikes.npy``, ``predictions.npy``
    (classification), ``metrics.json``. Keywords: ``out``, ``trials_per_chunk``. Returns
    the metrics (trials, steps, spikes, firing_rate_hz, accuracy, seconds)."""
    return _native.run(_os.fspath(model_dir), _os.fspath(data_dir), **_paths(options))


def make_task(kind, directory, **options):
    """Writes the task folder ``directory`` of the generated task ``kind`` (the names of
    ``spikegrad make-task``: ``"yin-yang"``, ``"yin-yang-gap"``, ``"yin-yang-long-gap"``,
    ``"yin-yang-latency"``, ``"patterns"``, ``"smooth"``, ``"xor"``); keywords
    ``trials=5000``, ``seed=1``."""
    _native.make_task(kind, _os.fspath(directory), **options)


def make_task_yin_yang(directory, **options):
    """Writes the Yin-Yang task folder ``directory`` (``trials=5000``, ``seed=1``)."""
    make_task("yin-yang", directory, **options)


def backend():
    """The SIMD backend the kernels run on this CPU (e.g. "x86-64-v3 (AVX2 + FMA)")."""
    return _native.backend()
