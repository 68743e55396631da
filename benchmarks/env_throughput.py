"""Env steps per second of ColorMazeEnv (release and fixed quirks) and ReferenceColorMaze.

Random actions are drawn up front (not timed) as a pool of ``--action-pool`` rows
that the timed loop cycles through (a policy hands the env a fresh, cache-warm
action array each step; streaming a 16 MB pre-drawn array through the cache
would be measured as env time). Each configuration is
timed ``--repeats`` times; the table shows the median and the best repeat, in
wall-clock time and in process CPU time (the CPU figure is less sensitive to
other jobs sharing the machine). The reference loops over envs in Python, so
it runs ``--reference-steps`` steps only.

    python benchmarks/env_throughput.py [--n-envs 1000] [--steps 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from color_maze import ColorMazeEnv, make_mazes
from color_maze.reference import ReferenceColorMaze


def _time_steps(step, pool: np.ndarray, steps: int) -> tuple[float, float]:
    rows = len(pool)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for t in range(steps):
        step(pool[t % rows])
    return time.perf_counter() - wall0, time.process_time() - cpu0


def measure(step, pool: np.ndarray, steps: int, repeats: int) -> dict[str, float]:
    n_env_steps = steps * pool.shape[1]
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = _time_steps(step, pool, steps)
        walls.append(n_env_steps / wall)
        cpus.append(n_env_steps / max(cpu, 1e-9))
    return {
        "wall_median": statistics.median(walls),
        "wall_best": max(walls),
        "cpu_median": statistics.median(cpus),
        "cpu_best": max(cpus),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-envs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000, help="steps per repeat for ColorMazeEnv")
    parser.add_argument("--reference-steps", type=int, default=20, help="steps per repeat for the reference")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--action-pool", type=int, default=256, help="rows of pre-drawn random actions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    pool = rng.integers(0, 4, size=(max(1, args.action_pool), args.n_envs), dtype=np.int64)
    rows = []
    for quirks in ("release", "fixed"):
        env = ColorMazeEnv(n_envs=args.n_envs, seed=args.seed, quirks=quirks)
        env.reset()
        env.step(pool[0])  # warm-up
        rows.append((f"ColorMazeEnv[{quirks}]", measure(env.step, pool, args.steps, args.repeats)))
        del env
    ref = ReferenceColorMaze(make_mazes(args.n_envs, seed=args.seed))
    ref.reset()
    ref_steps = max(1, args.reference_steps)
    rows.append(("ReferenceColorMaze", measure(ref.step, pool, ref_steps, max(1, min(args.repeats, 3)))))

    print(f"color maze throughput: n_envs={args.n_envs}, steps/repeat={args.steps} "
          f"(reference {ref_steps}), repeats={args.repeats}, action pool {len(pool)} rows; "
          f"env steps per second")
    header = f"{'env':26s} {'wall median':>13s} {'wall best':>13s} {'cpu median':>13s} {'cpu best':>13s}"
    print(header)
    print("-" * len(header))
    for name, r in rows:
        print(f"{name:26s} {r['wall_median']:13,.0f} {r['wall_best']:13,.0f} {r['cpu_median']:13,.0f} "
              f"{r['cpu_best']:13,.0f}")
    base = rows[-1][1]["cpu_median"]
    for name, r in rows[:-1]:
        print(f"speed-up of {name} over the reference (cpu median): {r['cpu_median'] / base:,.0f}x")


if __name__ == "__main__":
    main()
