"""Probes that say whether the student's partial view matters on a MiniGrid env, without training a network.

The question behind the choice of env: does a student that sees only MiniGrid's 7 x 7 egocentric view (no memory)
fail to follow a teacher that sees the whole grid? If even a perfect imitator of a privileged teacher succeeds, the
env cannot show what SITT is for. Measured with the privileged shortest-path policy (:class:`minigrid_lava.oracle.
Oracle`) as the teacher and *tabular* students (a lookup table from the student's view to the action; the limit of
BC and DAgger with unlimited capacity and data):

* ``aliasing``: share of the oracle's (view, action) samples whose view also occurs with another oracle action;
* ``bayes_accuracy``: the best share of the oracle's actions any function of the view can match on its own states;
* ``bc_success``: success on held-out levels of the table fitted on the oracle's own trajectories (majority action
  per view; a view never seen acts ``forward`` unless the cell ahead is lava or a wall, then ``left``);
* ``dagger_success``: the same after ``dagger_iterations`` rounds of tabular DAgger (the table's own states,
  labelled by the oracle, added to the data);
* ``oracle_success`` and ``oracle_steps``: the privileged teacher itself; ``random_success``: uniform random actions
  among left, right, forward.

``python -m minigrid_lava.probes imitation [ENV_ID[:VIEW_SIZE] ...]`` prints them (default: every lava env, view 7);
``... throughput`` measures env-steps per CPU-second of each training arm's ``learn()`` (:func:`training_throughput`),
``... vec`` the env-steps/s of the vec env with random actions, ``DummyVecEnv`` against ``SubprocVecEnv``
(:func:`env_throughput`).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from minigrid_lava.env import LAVA_ENVS, env_geometry, held_out_level_seeds, make_vec_env
from minigrid_lava.evaluate import evaluate, reset_levels
from minigrid_lava.oracle import FORWARD, LEFT, RIGHT, Oracle
from minigrid_lava.views import LAVA, WALL, student_obs



def rollout(act: Callable[[np.ndarray], np.ndarray], env_id: str, level_seeds: Sequence[int],
            label: Callable[[np.ndarray], np.ndarray] | None = None, max_steps: int | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First episodes of ``act`` on the levels: ``(teacher observations (M, D), labels (M,), success (n,))`` where
    the labels are ``label(obs)`` (default: the actions taken) at every visited state; ``max_steps`` cuts the
    episodes shorter than MiniGrid's limit (the probes' DAgger rounds: a looping table student repeats its states)."""
    envs, obs = reset_levels(env_id, level_seeds)
    running = np.ones(len(envs), bool)
    success = np.zeros(len(envs), bool)
    seen, labels = [], []
    t = 0
    while running.any() and (max_steps is None or t < max_steps):
        t += 1
        idx = np.flatnonzero(running)
        actions = np.asarray(act(obs[idx]))
        seen.append(obs[idx].copy())
        labels.append(actions if label is None else np.asarray(label(obs[idx])))
        for k, i in enumerate(idx):
            o, _, terminated, truncated, info = envs[i].step(int(actions[k]))
            obs[i] = o
            if terminated or truncated:
                running[i] = False
                success[i] = bool(info.get("success", 0.0))
    return np.concatenate(seen), np.concatenate(labels), success


class TableStudent:
    """A memoryless student: its view -> the majority action of the (view, action) samples it was fitted on."""

    def __init__(self, width: int, height: int, view_size: int):
        self.width, self.height, self.view_size = width, height, view_size
        self.counts: dict[bytes, Counter] = defaultdict(Counter)

    def views(self, obs: np.ndarray) -> np.ndarray:
        return student_obs(obs, self.width, self.height, self.view_size)

    def fit(self, obs: np.ndarray, actions: np.ndarray) -> TableStudent:
        for view, a in zip(self.views(obs), actions):
            self.counts[view.tobytes()][int(a)] += 1
        return self

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        views = self.views(obs)
        v = self.view_size
        ahead = views.reshape(len(views), v, v, 3)[:, v // 2, v - 2, 0]
        out = np.where((ahead == LAVA) | (ahead == WALL), LEFT, FORWARD)
        for i, view in enumerate(views):
            c = self.counts.get(view.tobytes())
            if c:
                out[i] = min(c, key=lambda a: (-c[a], a))
        return out

    def aliasing(self) -> tuple[float, float]:
        """``(share of samples whose view has more than one action, best achievable accuracy)``."""
        total = sum(sum(c.values()) for c in self.counts.values())
        mixed = sum(sum(c.values()) for c in self.counts.values() if len(c) > 1)
        best = sum(max(c.values()) for c in self.counts.values())
        return mixed / total, best / total


def imitation_probe(env_id: str, n_train: int = 500, n_test: int = 200, dagger_iterations: int = 4,
                    seed: int = 0, view_size: int | None = None) -> dict:
    """The probe of the module docstring on ``n_train`` training levels and ``n_test`` held-out levels (disjoint
    seed streams), the student seeing MiniGrid's ``view_size`` x ``view_size`` view (None: the env's 7)."""
    g = env_geometry(env_id, view_size)
    oracle = Oracle(g["width"], g["height"])
    train = held_out_level_seeds(1_000_000 + seed, n_train)
    test = held_out_level_seeds(2_000_000 + seed, n_test)
    obs, actions, _ = rollout(oracle, env_id, train)
    student = TableStudent(g["width"], g["height"], g["view_size"]).fit(obs, actions)
    aliasing, bayes = student.aliasing()
    bc_rows, _ = evaluate(student, env_id, test)
    for _ in range(dagger_iterations):
        visited, labels, _ = rollout(student, env_id, train, label=oracle, max_steps=4 * int(g["width"]))
        student.fit(visited, labels)
    dagger_rows, _ = evaluate(student, env_id, test)
    oracle_rows, _ = evaluate(oracle, env_id, test)
    rng = np.random.default_rng(seed)
    random_rows, _ = evaluate(lambda o: rng.choice([LEFT, RIGHT, FORWARD], len(o)), env_id, test)
    layouts = {o.tobytes() for o in reset_levels(env_id, train)[1]}
    return dict(env_id=env_id, view_size=g["view_size"], n_train=n_train, n_test=n_test,
                distinct_train_layouts=len(layouts),
                oracle_success=oracle_rows["success"].mean(), oracle_steps=oracle_rows["steps"].mean(),
                aliasing=aliasing, bayes_accuracy=bayes, bc_success=bc_rows["success"].mean(),
                bc_lava=bc_rows["lava"].mean(), dagger_success=dagger_rows["success"].mean(),
                dagger_lava=dagger_rows["lava"].mean(), random_success=random_rows["success"].mean())


def env_throughput(env_id: str, n_envs: int = 16, steps: int = 2000, vec_env: str = "dummy", seed: int = 0) -> dict:
    """Env-steps/s of the training vec env under uniform random actions (``steps`` vec steps after 50 of warm-up),
    and the cost of :meth:`MiniGridVecEnv.student_obs` on those batches (microseconds per row)."""
    env = make_vec_env(env_id, n_envs, seed, vec_env)
    rng = np.random.default_rng(seed)
    obs = env.reset()
    for _ in range(50):
        obs, *_ = env.step(rng.integers(0, 3, n_envs))
    t0 = time.perf_counter()
    batches = []
    for _ in range(steps):
        obs, *_ = env.step(rng.integers(0, 3, n_envs))
        if len(batches) < 200:
            batches.append(obs)
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    for b in batches:
        env.student_obs(b)
    dv = time.perf_counter() - t1
    env.close()
    return dict(env_id=env_id, vec_env=vec_env, n_envs=n_envs, env_steps_per_s=steps * n_envs / dt,
                student_obs_us_per_row=dv / (len(batches) * n_envs) * 1e6)


#: the arms of the MiniGrid study that train a network with PPO (bc and dagger only imitate)
TRAINING_ARMS = ("without_alignment", "sitt_release", "sitt_paper", "dwbc", "hlrl", "cosil")


def training_throughput(arm: str, steps: int = 10240, seed: int = 100, profile: str = "default") -> dict:
    """Env-steps per CPU-second (and per wall-second) of ``learn()`` of one arm of ``minigrid_main`` under
    ``profile`` at ``seed``, after one roll-out of warm-up, with one torch thread. hlrl and cosil learn against an
    untrained teacher (the speed does not depend on what it learned)."""
    from sitt.runtime import configure_threads  # noqa: PLC0415  (torch-heavy: only this probe trains)
    from study.presets import preset  # noqa: PLC0415  (the study's presets: only this probe builds a run)

    configure_threads(1)
    cfg = preset("minigrid_main", arm, seed, profile)
    task = cfg.task_object()
    model = cfg.kind_object().make_model(cfg, task.train_env(cfg), task)
    model.learn(cfg.rollout_size)
    c0, w0 = time.process_time(), time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return dict(arm=arm, steps=steps, cpu_s=cpu, wall_s=wall, env_steps_per_cpu_s=steps / cpu,
                env_steps_per_wall_s=steps / wall)


def main(argv: Sequence[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="probes of the MiniGrid task (minigrid_lava/README.md)")
    parser.add_argument("probe", choices=("imitation", "throughput", "vec"))
    parser.add_argument("targets", nargs="*", help="imitation: ENV_ID[:VIEW_SIZE]; throughput: arms")
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10240)
    args = parser.parse_args(argv)
    pd.set_option("display.width", 250)
    if args.probe == "imitation":
        rows = []
        for target in args.targets or LAVA_ENVS:
            env_id, _, view = target.partition(":")
            rows.append(imitation_probe(env_id, args.n_train, args.n_test, view_size=int(view) if view else None))
            print(pd.DataFrame(rows[-1:]).round(3).to_string(index=False), flush=True)
    elif args.probe == "throughput":
        for arm in args.targets or TRAINING_ARMS:
            print(pd.DataFrame([training_throughput(arm, args.steps)]).round(1).to_string(index=False), flush=True)
    else:
        for vec_env in ("dummy", "subproc"):
            print(pd.DataFrame([env_throughput(args.targets[0] if args.targets else "MiniGrid-LavaCrossingS9N1-v0",
                                               vec_env=vec_env, steps=1000)]).round(1).to_string(index=False))
    return 0


__all__ = ["LAVA_ENVS", "TRAINING_ARMS", "TableStudent", "env_throughput", "imitation_probe", "rollout",
           "training_throughput"]


if __name__ == "__main__":
    raise SystemExit(main())
