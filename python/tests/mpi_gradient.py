"""Run by test_parallel.py under ``mpirun -n K``: every process computes the combined
gradient of its share of a fixed batch for each loss; process 0 saves them (per-trial
gradients gathered back into trial order) to the .npz file named by argv[1]."""

import sys

import numpy as np
from mpi4py import MPI

from spikegrad.parallel import allreduce_gradient, share
from conftest import SEED, random_case

VARIANTS = {
    "mse": dict(loss="mse", b=5, rate_penalty=0.05),
    "cross_entropy": dict(loss="cross_entropy", b=5, shared_state=True, i_ext=True),
    "linear": dict(loss="linear", b=5, per_neuron=True, rate_penalty=0.1),
}
PER_TRIAL = {"dx": 1, "dI_ext": 1, "dv0": 0, "ds0": 0}


def local_part(arrays, part):
    """The arrays of the trials in ``part``."""
    local = {}
    for name, value in arrays.items():
        if name in ("x", "target", "mask", "G", "I_ext"):
            local[name] = value[:, part]
        elif name in ("v0", "s0") and value.ndim == 2 or name == "labels":
            local[name] = value[part]
        else:
            local[name] = value
    return local


def main(path):
    comm = MPI.COMM_WORLD
    saved = {}
    for key, variant in VARIANTS.items():
        arrays, config = random_case(np.random.default_rng(SEED), **variant)
        part = share(arrays["x"].shape[1], comm.Get_rank(), comm.Get_size())
        loss, grads = allreduce_gradient(comm, local_part(arrays, part), config)
        dconfig = grads.pop("dconfig")
        gathered = {}
        for name, g in grads.items():
            axis = PER_TRIAL.get(name)
            if axis is not None and not (name in ("dv0", "ds0") and g.ndim == 1):
                gathered[name] = np.concatenate(comm.allgather(g), axis=axis)
            else:
                gathered[name] = g
                # Identical on every process.
                assert all(np.array_equal(g, other) for other in comm.allgather(g)), name
        saved[f"{key}/loss"] = np.array(loss)
        for k, v in dconfig.items():
            saved[f"{key}/dconfig/{k}"] = np.array(np.nan if v is None else v)
        for name, g in gathered.items():
            saved[f"{key}/{name}"] = g
    if comm.Get_rank() == 0:
        np.savez(path, **saved)


if __name__ == "__main__":
    main(sys.argv[1])
