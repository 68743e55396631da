"""Where a SITT iteration's time goes, against stock SB3 PPO, on the color maze, in one process.

Prints one table per schedule: env-only steps/s, roll-out steps/s, PPO-update and alignment seconds per iteration,
end-to-end env-steps/s for stock ``stable_baselines3.PPO`` and for ``sitt.SITT`` (release recipe) with observation
grouping on and off, peak memory (RSS) and torch threads. Each figure is a median over iterations after a warm-up.

    python benchmarks/throughput.py            # release schedule (1000 x 250, full batch) and the default profile
    python benchmarks/throughput.py --quick    # small schedule, under a minute
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch as th
from stable_baselines3 import PPO

from color_maze import ColorMazeEnv
from sitt import SITT
from sitt.runtime import configure_threads


@dataclass
class Schedule:
    name: str
    n_envs: int
    n_steps: int
    batch_size: int | None  # None: full batch
    n_epochs: int
    align_epochs: int
    iterations: int  # measured iterations (after one warm-up iteration)


SCHEDULES = {
    "release": Schedule("release (1000 x 250, full batch, 10 epochs, 20 align epochs)", 1000, 250, None, 10, 20, 3),
    "default": Schedule("default profile (1000 x 64, full batch, 10 epochs, 20 align epochs)",
                        1000, 64, None, 10, 20, 6),
    "quick": Schedule("quick (256 x 32, full batch, 10 epochs, 20 align epochs)", 256, 32, None, 10, 20, 3),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def env_steps_per_s(n_envs: int, steps: int = 500) -> float:
    env = ColorMazeEnv(n_envs=n_envs, seed=0)
    env.reset()
    actions = np.random.default_rng(0).integers(0, 4, size=(steps, n_envs))
    start = time.perf_counter()
    for a in actions:
        env.step(a)
    return steps * n_envs / (time.perf_counter() - start)


def timed(obj, name: str, sink: list[float]) -> None:
    """Wrap ``obj.name`` so that each call's wall time is appended to ``sink``."""
    original = getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        out = original(*args, **kwargs)
        sink.append(time.perf_counter() - start)
        return out

    setattr(obj, name, wrapper)


def measure(kind: str, s: Schedule, seed: int = 0) -> dict[str, float]:
    """Train ``1 + s.iterations`` iterations; medians of the measured ones (the first is a warm-up)."""
    env = ColorMazeEnv(n_envs=s.n_envs, seed=seed)
    batch = s.batch_size or s.n_envs * s.n_steps
    kw = dict(n_steps=s.n_steps, batch_size=batch, n_epochs=s.n_epochs, ent_coef=0.3, seed=seed)
    rollout, update, align = [], [], []
    if kind == "ppo":
        model = PPO("MlpPolicy", env, **kw)
        timed(model, "collect_rollouts", rollout)
        timed(model, "train", update)
    else:
        model = SITT("MlpPolicy", env, recipe="release", align_epochs=s.align_epochs, dedup=(kind == "sitt"), **kw)
        timed(model, "collect_rollouts", rollout)
        timed(model, "policy_update", update)
        timed(model, "align", align)
    n_iter = 1 + s.iterations
    start = time.perf_counter()
    model.learn(n_iter * s.n_envs * s.n_steps)
    wall = time.perf_counter() - start
    per_iter = [r + u + (align[i] if align else 0.0) for i, (r, u) in enumerate(zip(rollout, update))]
    med = lambda xs: statistics.median(xs[1:]) if len(xs) > 1 else float("nan")
    samples = s.n_envs * s.n_steps
    return {
        "rollout_steps_per_s": samples / med(rollout),
        "update_s": med(update),
        "align_s": med(align) if align else float("nan"),
        "iteration_s": med(per_iter),
        "end_to_end_steps_per_s": samples / med(per_iter),
        "learn_wall_s": wall,
        "distinct_obs_share": len(model._iteration["rows"]) / model._iteration["n"] if kind != "ppo" else float("nan"),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small schedule only, under a minute")
    parser.add_argument("--schedules", default=None, help="comma list of: " + ", ".join(SCHEDULES))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one per run)")
    parser.add_argument("--no-plain", action="store_true", help="skip SITT without observation grouping (slow)")
    args = parser.parse_args(argv)
    configure_threads(args.threads)
    names = ["quick"] if args.quick else (args.schedules.split(",") if args.schedules else ["release", "default"])
    print(f"torch {th.__version__}, threads intra-op {th.get_num_threads()}, inter-op {th.get_num_interop_threads()}")
    for name in names:
        s = SCHEDULES[name]
        print(f"\n## {s.name}")
        print(f"env only: {env_steps_per_s(s.n_envs) / 1e6:.2f}M steps/s at {s.n_envs} envs")
        kinds = ["ppo", "sitt"] + ([] if args.no_plain else ["sitt_plain"])
        rows = {}
        for kind in kinds:
            rows[kind] = measure(kind, s)
            print(f"  measured {kind}", file=sys.stderr, flush=True)
        labels = {"ppo": "stock SB3 PPO", "sitt": "SITT (grouped obs)", "sitt_plain": "SITT (per sample)"}
        print(f"| {'':22} | roll-out steps/s | PPO update s/iter | alignment s/iter | s/iter | end-to-end steps/s "
              "| distinct obs | peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|")
        for kind, r in rows.items():
            print(
                f"| {labels[kind]:22} | {r['rollout_steps_per_s']:,.0f} | {r['update_s']:.2f} | {r['align_s']:.2f} | "
                f"{r['iteration_s']:.2f} | {r['end_to_end_steps_per_s']:,.0f} | {r['distinct_obs_share']:.3f} | "
                f"{r['peak_rss_mb']:.0f} |"
            )
        ppo = rows["ppo"]["iteration_s"]
        for kind in rows:
            if kind != "ppo":
                print(f"{labels[kind]}: {rows[kind]['iteration_s'] / ppo:.2f}x the time of stock PPO per iteration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
