"""Data-parallel training of a task folder over MPI: each process sweeps its share of
every batch, MPI all-reduces the gradients (spikegrad.parallel), and every process takes
the same Adam step, so the parameters stay identical everywhere.

    mpirun -n 2 python data_parallel_train.py TASK_DIR [--out DIR] [--iterations K]
        [--batch B] [--neurons N] [--seed S]

On several machines: ``mpirun -n 8 --hostfile hosts python data_parallel_train.py ...``
(docs/python.md). TASK_DIR is a task folder as for ``spikegrad train task``
(config.json, x.npy and labels.npy, target.npy [+ mask.npy] or G.npy). The initial model
is the command line's data-driven start (``spikegrad.train_task`` with one iteration, on
process 0, then broadcast); the optimiser is the command line's too: Adam with steps
relative to each array's RMS (1e-3; 0.1 for the readout O), each gradient clipped to
norm 1. The last fifth of the trials is held out; process 0 reports it and saves the
model folder to --out.
"""

import argparse
import json
import os
import tempfile

import numpy as np
from mpi4py import MPI

import spikegrad
from spikegrad.parallel import allreduce_gradient, share

TRAINED = ("W", "U", "I0", "O")


def read_task(folder):
    """config (dict) and the arrays of the task folder, trials on axis 1 (labels axis 0)."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    arrays = {"x": np.load(os.path.join(folder, "x.npy"))}
    for name in ("labels", "target", "mask", "G", "I_ext"):
        path = os.path.join(folder, f"{name}.npy")
        if os.path.exists(path):
            arrays[name] = np.load(path)
    return config, arrays


def trials(arrays, index):
    """The arrays of the trials ``index``."""
    return {name: (value[index] if name == "labels" else value[:, index])
            for name, value in arrays.items()}


def initial_model(comm, task, neurons, seed):
    """Process 0 draws the command line's initial model; every process gets it."""
    model = None
    if comm.Get_rank() == 0:
        with tempfile.TemporaryDirectory() as scratch:
            out = os.path.join(scratch, "start")
            spikegrad.train_task(task, out=out, iterations=1, eval_every=1, neurons=neurons,
                                 seed=seed, learning_rate=1e-12, readout_learning_rate=1e-12)
            model = spikegrad.load_model(out)
    return comm.bcast(model, root=0)


def held_out_score(params, config, data):
    """Accuracy for a cross-entropy task, else the loss, of the held-out trials."""
    loss = config.get("loss", {})
    if loss.get("kind") == "cross_entropy":
        readout = spikegrad.forward({**params, "x": data["x"]}, config, "f32")["readout"]
        window = readout[loss["from_step"]:loss["to_step"]].mean(axis=0)
        return "accuracy", float(np.mean(window.argmax(axis=1) == data["labels"]))
    return "loss", spikegrad.gradient({**params, **data}, config, "f32")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task")
    parser.add_argument("--out", default="runs/data-parallel")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--neurons", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()

    config, data = read_task(args.task)
    k = data["x"].shape[1]
    held = min(k // 5, 2000)
    train_trials, held_trials = np.arange(k - held), np.arange(k - held, k)
    model, model_config = initial_model(comm, args.task, args.neurons, args.seed)
    config = dict(model_config, loss=config.get("loss", model_config.get("loss")))
    params = {name: np.array(value) for name, value in model.items()}
    steps = {name: (0.1 if name == "O" else 1e-3) * np.sqrt(np.mean(params[name] ** 2))
             for name in TRAINED}
    moments = {name: (np.zeros_like(params[name]), np.zeros_like(params[name])) for name in TRAINED}
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for iteration in range(1, args.iterations + 1):
        # Every process draws the same batch and sweeps its share of it.
        rng = np.random.default_rng([args.seed, iteration])
        batch = rng.choice(train_trials, size=min(args.batch, len(train_trials)), replace=False)
        mine = batch[share(len(batch), rank, size)]
        loss, grads = allreduce_gradient(comm, {**params, **trials(data, mine)}, config, "f32")
        decay = 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * (iteration - 1) / args.iterations))
        for name in TRAINED:
            g = grads["d" + name].astype(np.float64)
            norm = np.linalg.norm(g)
            if norm > 1.0:
                g = g / norm
            m, v = moments[name]
            m[...] = beta1 * m + (1 - beta1) * g
            v[...] = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1 ** iteration), v / (1 - beta2 ** iteration)
            update = decay * steps[name] * m_hat / (np.sqrt(v_hat) + eps)
            params[name] = (params[name] - update).astype(params[name].dtype)
        if rank == 0 and (iteration % 50 == 0 or iteration == args.iterations):
            print(f"iteration {iteration}: batch loss {loss:.4f}", flush=True)
    # The parameters are the same on every process (the same steps from the same sums).
    assert all(np.array_equal(params["W"], w) for w in comm.allgather(params["W"]))
    if rank == 0:
        what, score = held_out_score(params, config, trials(data, held_trials))
        shown = f"{100 * score:.1f}%" if what == "accuracy" else f"{score:.4f}"
        spikegrad.save_model(args.out, params, config)
        processes = f"{size} process" + ("es" if size > 1 else "")
        print(f"data-parallel training on {processes}, {args.iterations} iterations: "
              f"held-out {what} {shown} -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
