"""Env steps per second of OccludedDrawerEnv with random actions, and the cost of the student view.

Random actions in [-1, 1] are drawn up front (not timed) as a pool of ``--action-pool`` rows
that the timed loop cycles through. ``step`` is ``env.step`` (dynamics, rewards, auto-resets
with new scenes, info dicts); ``student_obs`` is the student view of one batch of teacher
observations (visibility by segment-segment distance against every link), timed on its own
and reported per env row. Each figure is the median and best of ``--repeats`` repeats, in
wall-clock and process CPU time; the CPU figure is less sensitive to other jobs on the machine.
One thread (``torch`` is not used; numpy runs single-threaded for these element-wise ops).

    python benchmarks/occluded_drawer_throughput.py [--n-envs 1000] [--steps 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from occluded_drawer import DrawerConfig, OccludedDrawerEnv, student_obs


def _rates(fn, pool: np.ndarray, steps: int, repeats: int, rows_per_call: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for t in range(steps):
            fn(pool[t % len(pool)])
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        walls.append(steps * rows_per_call / wall)
        cpus.append(steps * rows_per_call / max(cpu, 1e-9))
    return {"wall_median": statistics.median(walls), "wall_best": max(walls),
            "cpu_median": statistics.median(cpus), "cpu_best": max(cpus)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-envs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--action-pool", type=int, default=64, help="rows of pre-drawn random actions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    config = DrawerConfig()
    env = OccludedDrawerEnv(args.n_envs, config=config, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    pool = rng.uniform(-1, 1, size=(max(1, args.action_pool), args.n_envs, config.action_dim)).astype(np.float32)
    env.reset()
    env.step(pool[0])  # warm-up
    rows = [("step (random actions)", _rates(env.step, pool, args.steps, args.repeats, args.n_envs))]
    # the student view of a pool of real observations
    obs_pool = np.stack([env.step(pool[i])[0] for i in range(len(pool))])
    rows.append(("student_obs", _rates(lambda o: student_obs(o, config), obs_pool, max(1, args.steps // 4),
                                       args.repeats, args.n_envs)))
    step_time = 1.0 / rows[0][1]["wall_median"]
    view_time = 1.0 / rows[1][1]["wall_median"]

    print(f"occluded drawer throughput: n_envs={args.n_envs}, {args.steps} steps/repeat, repeats={args.repeats}, "
          f"{config.n_links} links; env rows per second")
    header = f"{'what':24s} {'wall median':>13s} {'wall best':>13s} {'cpu median':>13s} {'cpu best':>13s}"
    print(header)
    print("-" * len(header))
    for name, r in rows:
        print(f"{name:24s} {r['wall_median']:13,.0f} {r['wall_best']:13,.0f} {r['cpu_median']:13,.0f} "
              f"{r['cpu_best']:13,.0f}")
    print(f"step + student_obs (median): {1.0 / (step_time + view_time):,.0f} env-steps/s; "
          f"student_obs adds {view_time / step_time:.0%} to a step")
    print(f"target: >= 1,000,000 env-steps/s for step at 1000 envs: "
          f"{'met' if rows[0][1]['wall_median'] >= 1e6 else 'NOT met'} (wall median)")


if __name__ == "__main__":
    main()
