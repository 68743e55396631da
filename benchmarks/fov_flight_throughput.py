"""Env steps per second of FovFlightEnv with random actions, and the cost of the student view, on one core.

Random actions are drawn up front (not timed) as a pool of ``--action-pool`` rows that
the timed loop cycles through. ``step`` is ``env.step`` alone (auto-resets and info dicts
included); ``student_obs`` is timed separately on the observations of a roll-out, at the
default field of view and for the 360-degree control (same angular spacing). Each figure
is the median (and best) over ``--repeats`` repeats, in wall-clock and process CPU time
(the CPU figure is less sensitive to other jobs sharing the machine). Target (issue 11):
at least 1M env-steps/s at 1000 envs for ``step``.

    python benchmarks/fov_flight_throughput.py [--n-envs 1000] [--steps 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fov_flight import FlightConfig, FovFlightEnv, student_obs  # noqa: E402


def _timed(fn, reps: int) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-envs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=1000, help="env steps per repeat")
    parser.add_argument("--student-calls", type=int, default=50, help="student_obs calls per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--action-pool", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: PLC0415  (optional here: only to pin its threads when installed)

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

    config = FlightConfig()
    n = args.n_envs
    rng = np.random.default_rng(args.seed)
    pool = rng.uniform(-1, 1, size=(args.action_pool, n, 3)).astype(np.float32)
    env = FovFlightEnv(n_envs=n, config=config, seed=args.seed)
    env.reset()
    dones = 0
    counter = [0]

    def one_step():
        nonlocal dones
        _, _, d, _ = env.step(pool[counter[0] % len(pool)])
        counter[0] += 1
        dones += int(d.sum())

    for _ in range(20):
        one_step()  # warm-up
    dones = 0
    rows = []
    walls, cpus = [], []
    for _ in range(args.repeats):
        wall, cpu = _timed(one_step, args.steps)
        walls.append(n * args.steps / wall)
        cpus.append(n * args.steps / max(cpu, 1e-9))
    rows.append(("step", "env-steps/s", walls, cpus))
    episodes_per_step = dones / (args.repeats * args.steps)

    obs = env.step(pool[0])[0]
    m360 = int(round(config.n_rays * 360 / config.fov_deg))
    for label, kw in ((f"student_obs {config.fov_deg:g} deg, {config.n_rays} rays", {}),
                      (f"student_obs 360 deg, {m360} rays", dict(fov_deg=360.0, n_rays=m360))):
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu = _timed(lambda: student_obs(obs, config, **kw), args.student_calls)
            walls.append(n * args.student_calls / wall)
            cpus.append(n * args.student_calls / max(cpu, 1e-9))
        rows.append((label, "obs/s", walls, cpus))

    print(f"fov_flight throughput: n_envs={n}, {args.steps} steps x {args.repeats} repeats, random actions, "
          f"one thread; {episodes_per_step:.1f} episodes end per step (auto-reset)")
    header = f"{'what':34s} {'unit':>12s} {'wall median':>13s} {'wall best':>13s} {'cpu median':>13s} {'cpu best':>13s}"
    print(header)
    print("-" * len(header))
    for name, unit, w, c in rows:
        print(f"{name:34s} {unit:>12s} {statistics.median(w):13,.0f} {max(w):13,.0f} "
              f"{statistics.median(c):13,.0f} {max(c):13,.0f}")
    step_per_s = statistics.median(rows[0][2])
    print(f"per step at {n} envs: {1e6 * n / step_per_s:.0f} us wall; student_obs per call: "
          f"{1e6 * n / statistics.median(rows[1][2]):.0f} us (90 deg), "
          f"{1e6 * n / statistics.median(rows[2][2]):.0f} us (360 deg)")


if __name__ == "__main__":
    main()
