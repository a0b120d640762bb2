#!/usr/bin/env python3
"""The task suite: the project's generated tasks (`spikegrad make-task`), each trained by
`spikegrad train task` with its defaults, or with each setting of a small grid, and the
kept model scored again on fresh test trials by `spikegrad run` (classification).

    python3 suite/suite.py                  # every task, the defaults: the suite table
    python3 suite/suite.py --grid           # every task, the reference grid
    python3 suite/suite.py --tasks yin-yang-gap,smooth --grid
    python3 suite/suite.py --smoke          # CI: three small tasks, learning asserted

Each line of the table gives the held-out score (`metrics.json`), the test score, the
wall time of `train task` and what its plan chose. Folders go under target/suite (or
--out); the binary is target/release/spikegrad (built first by `cargo build --release`,
or SPIKEGRAD_BIN). Only the standard library is used."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ["yin-yang", "yin-yang-gap", "yin-yang-long-gap", "yin-yang-latency", "patterns",
         "smooth", "xor"]
# The reference grid: learning rate x recurrent scale at N 128, and N 64 at the defaults'
# middle setting. Each run fits its iterations to the same time limit as the defaults.
GRID = [(f"lr {lr:g}, rec {rec:g}, N {n}",
         ["--learning-rate", str(lr), "--recurrent-current", str(rec), "--neurons", str(n)])
        for lr, rec, n in [(1e-3, 0.15, 128), (1e-2, 0.15, 128), (1e-3, 0.5, 128),
                           (1e-2, 0.5, 128), (3e-3, 0.15, 64)]]
# The smoke version: small tasks, a few iterations, fixed probes (deterministic), and the
# score each must beat (accuracy, or an NMSE below).
SMOKE = {"yin-yang": 0.7, "yin-yang-gap": 0.55, "smooth": 0.3}
SMOKE_TRAIN = ["--iterations", "200", "--neurons", "32", "--probe-iterations", "40",
               "--probe-learning-rates", "0.003,0.01"]


def spikegrad(binary, *args):
    """Runs the binary; its stdout, or the whole failure on stderr and an exception."""
    done = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"spikegrad {' '.join(map(str, args))} failed ({done.returncode})")
    return done.stdout


def make(binary, kind, out, trials):
    """The task's training folder (seed 1) and its test folder (seed 2)."""
    train, test = out / f"{kind}-train", out / f"{kind}-test"
    for folder, seed in [(train, 1), (test, 2)]:
        if not (folder / "config.json").exists():
            spikegrad(binary, "make-task", kind, folder, "--trials", trials, "--seed", seed)
    return train, test


def train(binary, train_dir, test_dir, run_dir, args):
    """One run and its scores: a dict of what the table shows."""
    started = time.monotonic()
    spikegrad(binary, "train", "task", train_dir, "--out", run_dir, *args)
    seconds = time.monotonic() - started
    metrics = json.loads((run_dir / "metrics.json").read_text())
    score = metrics["held_out"]["score"]
    row = {"held_out": score["accuracy"] if score["accuracy"] is not None else score["nmse"],
           "kind": "accuracy" if score["accuracy"] is not None else "nmse",
           "seconds": seconds, "plan": metrics.get("plan"), "test": None,
           "iterations": metrics["iterations"], "stopped": metrics["held_out"]["stopped"]}
    if row["kind"] == "accuracy":
        spikegrad(binary, "run", run_dir, test_dir, "--out", run_dir.parent / f"{run_dir.name}-test")
        tested = json.loads((run_dir.parent / f"{run_dir.name}-test" / "metrics.json").read_text())
        row["test"] = tested["accuracy"]
    return row


def shown(row):
    """A score as the table prints it."""
    fmt = (lambda x: f"{100 * x:.2f}%") if row["kind"] == "accuracy" else (lambda x: f"{x:.4f}")
    test = fmt(row["test"]) if row["test"] is not None else "-"
    return fmt(row["held_out"]), test


def chose(plan):
    """What the plan chose, in a few words."""
    if not plan:
        return "-"
    return (f"lr {plan['learning_rate']:g} ({plan['chosen_by']['learning_rate']}), "
            f"{plan['iterations']} it ({plan['chosen_by']['iterations']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated kinds")
    parser.add_argument("--grid", action="store_true", help="run the reference grid")
    parser.add_argument("--smoke", action="store_true", help="CI's fast version")
    parser.add_argument("--trials", type=int, default=5000, help="trials per task folder")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "suite")
    args = parser.parse_args()
    binary = os.environ.get("SPIKEGRAD_BIN", str(ROOT / "target" / "release" / "spikegrad"))
    kinds = list(SMOKE) if args.smoke else args.tasks.split(",")
    unknown = [k for k in kinds if k not in TASKS]
    if unknown:
        parser.error(f"unknown task {unknown[0]!r}: one of {', '.join(TASKS)}")
    out = args.out / ("smoke" if args.smoke else "")
    trials = 600 if args.smoke else args.trials
    settings = [("defaults", SMOKE_TRAIN if args.smoke else [])]
    if args.grid:
        settings = GRID
    print("| task | setting | held-out | test | wall time | plan |")
    print("|---|---|---|---|---|---|")
    failed = []
    for kind in kinds:
        train_dir, test_dir = make(binary, kind, out, trials)
        for name, extra in settings:
            run_dir = out / "runs" / f"{kind}-{name.replace(' ', '').replace(',', '-')}"
            row = train(binary, train_dir, test_dir, run_dir, extra)
            held_out, test = shown(row)
            print(f"| {kind} | {name} | {held_out} | {test} | {row['seconds']:.0f} s "
                  f"| {chose(row['plan'])} |", flush=True)
            if args.smoke:
                bar = SMOKE[kind]
                learned = row["held_out"] > bar if row["kind"] == "accuracy" else row["held_out"] < bar
                if not learned:
                    failed.append(f"{kind}: held-out {held_out}, not past {bar}")
    if failed:
        sys.exit("did not learn: " + "; ".join(failed))


if __name__ == "__main__":
    main()
