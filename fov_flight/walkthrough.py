"""Helpers of the flight walkthrough notebook (05_walkthrough_flight): one SITT iteration on a continuous-action task,
stepped through by hand.

The maze walkthrough (:mod:`color_maze.walkthrough`, notebook 00) shows the phases on ``Discrete`` actions; here the
teacher is SB3's diagonal Gaussian policy on the flight task (3 actions in [-1, 1]: world-frame acceleration x, y and
yaw rate), so the KL that SITT measures is the paper's Mahalanobis form with the teacher's shared log-std,
``0.5 * sum_k ((mu_t,k - mu_p,k) / sigma_k)^2`` (:func:`kl_by_hand`, checked against
:func:`sitt.distributions.kl_divergence`).

* :func:`tiny_model`: the study's ``sitt_paper`` arm of the flight task (paper recipe: reward ``- lambda1 x KL``, KL
  update term reaching the log-std, the profile's world, body and PPO settings), scaled down to a few envs and a short
  roll-out; :func:`start_learning`, :func:`raw_rollout` and :func:`logged` (from :mod:`color_maze.walkthrough`) step
  through ``learn`` one phase at a time;
* :func:`scripted_state`, :func:`teacher_table`, :func:`student_table`, :func:`who_sees_what`: one state of the task,
  the teacher's observation next to the student's view and what teacher, proxy and student make of it;
* :func:`head_means`, :func:`rollout_table`, :func:`rollout_check`, :func:`rollout_flight`, :func:`kl_path_figure`:
  the roll-out phase's reward term, step by step;
* :func:`snapshot`, :func:`changes`: which parameters a phase moves (teacher MLP, shared head, shared log-std, critic,
  student, proxy);
* :func:`action_distance_table`, :func:`clipping_example`: the executed-action distance (``action_distance="clipped"``:
  means clamped to the action bounds, :func:`sitt.distributions.executed_output`) next to the raw one, and how much of
  the raw KL comes from saturated action dimensions.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import torch as th
from matplotlib.figure import Figure

from fov_flight.config import FlightConfig
from fov_flight.generation import Worlds
from fov_flight.env import FovFlightEnv
from fov_flight.evaluate import evaluate
from fov_flight.render import _agg_figure, draw_trajectory, draw_world
from fov_flight.scripted import ScriptedPilot
from fov_flight.task import held_out_worlds
from sitt.stepping import logged, raw_rollout, start_learning  # noqa: F401 - notebook 05 calls them from here
from fov_flight.views import OWN_STATE_DIM, ray_offsets
from sitt.distributions import executed_output, kl_divergence
from sitt.networks import teacher_latent
from study.kinds.sitt import make_sitt
from study.presets import preset

__all__ = [
    "ACTION_NAMES",
    "EXPERIMENT",
    "ARM",
    "PARAMETER_GROUPS",
    "check_parameters",
    "tiny_model",
    "start_learning",
    "raw_rollout",
    "logged",
    "scripted_state",
    "teacher_table",
    "student_table",
    "who_sees_what",
    "head_means",
    "log_std",
    "kl_by_hand",
    "kl_terms",
    "rollout_table",
    "rollout_check",
    "rollout_flight",
    "kl_path_figure",
    "parameter_group",
    "snapshot",
    "changes",
    "action_distance_table",
    "clipping_example",
]

#: the flight task's three actions, in the env's order (fov_flight.env)
ACTION_NAMES = ("accel x", "accel y", "yaw rate")
#: the study's experiment and arm the tiny model copies (its recipe, switches and the profile's settings)
EXPERIMENT = "fov_flight_main"
ARM = "sitt_paper"
#: the parameter groups of a SITT model, in display order (:func:`parameter_group`)
PARAMETER_GROUPS = ("teacher MLP", "shared head", "shared log-std", "critic", "student", "proxy")


def _int_at_least(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer >= {low}")
    return int(value)


def check_parameters(n_envs: Any, n_steps: Any, warmup_iterations: Any, seed: Any, env_index: Any) -> None:
    """The walkthrough's own parameters, checked before any work (``ValueError`` naming the parameter)."""
    n_envs = _int_at_least("n_envs", n_envs, 1)
    n_steps = _int_at_least("n_steps", n_steps, 2)
    _int_at_least("warmup_iterations", warmup_iterations, 0)
    _int_at_least("seed", seed, 0)
    if isinstance(env_index, bool) or not isinstance(env_index, (int, np.integer)) or not 0 <= env_index < n_envs:
        raise ValueError(f"env_index: got {env_index!r}; allowed: an integer in [0, n_envs - 1 = {n_envs - 1}]")


# --------------------------------------------------------------------------------------------------------- model


def tiny_model(profile: str = "default", seed: int = 0, n_envs: int = 8, n_steps: int = 32):
    """``(model, config)``: the study's SITT model of arm :data:`ARM` in :data:`EXPERIMENT` under ``profile``
    (:func:`study.presets.preset`, built by :func:`study.kinds.sitt.make_sitt` as a sweep builds it), with only the
    scale changed: ``n_envs`` flights, ``n_steps`` steps per roll-out, one full batch per PPO epoch, a pool of
    ``max(16, n_envs)`` training worlds. ``config`` is the changed run config (``config.env.flight``: the task)."""
    base = preset(EXPERIMENT, ARM, seed, profile)
    config = dataclasses.replace(
        base,
        env=dataclasses.replace(base.env, n_envs=int(n_envs), pool_size=max(16, int(n_envs))),
        ppo=dataclasses.replace(base.ppo, n_steps=int(n_steps), batch_size=None),
    ).validate()
    task = config.task_object()
    model = make_sitt(config, task.train_env(config), task)
    return model, config


# --------------------------------------------------------------------------------------------------------- views


def scripted_state(config, world: int = 0, step: int = 25) -> dict[str, Any]:
    """One state of the task worth looking at: step ``step`` (or the last state, if the flight ends earlier) of the
    scripted privileged pilot with its yaw along the velocity (:class:`fov_flight.scripted.ScriptedPilot`) on
    held-out world ``world`` of run config ``config``. Returns ``worlds`` (the held-out worlds), ``world``, ``pos``
    (2,), ``vel`` (2,), ``yaw``, ``step`` and ``obs`` (1, obs_dim), the teacher's observation of that state."""
    worlds, _ = held_out_worlds(config)
    if isinstance(world, bool) or not isinstance(world, (int, np.integer)) or not 0 <= world < len(worlds):
        raise ValueError(f"world: got {world!r}; allowed: an integer in [0, {len(worlds) - 1}] (a held-out world, "
                         f"eval.n_worlds = {len(worlds)})")
    flight = config.env.flight
    one = worlds.subset([int(world)])
    _, traj = evaluate(ScriptedPilot(flight, yaw="along_velocity"), one, flight, min_speed=config.eval.min_speed)
    t = int(min(step, int(traj["steps"][0])))
    pos, vel, yaw = traj["pos"][0, t], traj["vel"][0, t], float(traj["yaw"][0, t])
    env = FovFlightEnv.from_worlds(one, flight)
    obs = env.set_state(pos[None], vel[None], np.array([yaw]))
    return dict(worlds=worlds, world=int(world), pos=pos, vel=vel, yaw=yaw, step=t, obs=obs)


def teacher_table(obs: np.ndarray, config: FlightConfig) -> pd.DataFrame:
    """A teacher observation (obs_dim,) entry by entry: name, meaning, value (and the value in metres or m/s)."""
    obs = np.asarray(obs, dtype=np.float64).reshape(-1)
    R, L, half, vmax = config.ray_range, config.length, config.width / 2, config.max_speed
    rows = [("x / L", "position along the corridor", obs[0], obs[0] * L),
            ("y / (W/2)", "lateral position", obs[1], obs[1] * half),
            ("vx / vmax", "world-frame velocity", obs[2], obs[2] * vmax),
            ("vy / vmax", "world-frame velocity", obs[3], obs[3] * vmax),
            ("cos yaw", "heading", obs[4], np.nan),
            ("sin yaw", "heading", obs[5], np.nan)]
    for k in range(config.k_nearest):
        dx, dy, r = obs[OWN_STATE_DIM + 3 * k: OWN_STATE_DIM + 3 * k + 3]
        rows += [(f"pillar {k} dx / R", f"offset of the {_ordinal(k)} nearest pillar", dx, dx * R),
                 (f"pillar {k} dy / R", f"offset of the {_ordinal(k)} nearest pillar", dy, dy * R),
                 (f"pillar {k} radius", "metres (0: absent)", r, r)]
    return pd.DataFrame(rows, columns=["entry", "meaning", "value", "in m or m/s"])


def student_table(student: np.ndarray, config: FlightConfig) -> pd.DataFrame:
    """A student view (6 + M,) entry by entry: name, meaning, value (rays: the ray's angle to the heading and its
    depth in metres)."""
    s = np.asarray(student, dtype=np.float64).reshape(-1)
    vmax = config.max_speed
    rows = [("forward speed / vmax", "body-frame velocity", s[0], s[0] * vmax),
            ("leftward speed / vmax", "body-frame velocity", s[1], s[1] * vmax),
            ("cos yaw", "heading", s[2], np.nan),
            ("sin yaw", "heading", s[3], np.nan),
            ("x / L", "position along the corridor", s[4], s[4] * config.length),
            ("y / (W/2)", "lateral position", s[5], s[5] * config.width / 2)]
    offsets = np.degrees(ray_offsets(len(s) - OWN_STATE_DIM, config.fov_deg))
    for j, off in enumerate(offsets):
        d = s[OWN_STATE_DIM + j]
        rows.append((f"ray {j} depth / R", f"ray at {off:+.1f} deg" + (" (no hit)" if d >= 1.0 else ""), d,
                     d * config.ray_range))
    return pd.DataFrame(rows, columns=["entry", "meaning", "value", "in m or m/s"])


def _ordinal(k: int) -> str:
    n = k + 1
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def head_means(model, obs: np.ndarray) -> dict[str, np.ndarray]:
    """The Gaussian means (N, 3) float64 of the teacher and the proxy on teacher observations ``obs`` (N, obs_dim),
    and of the student on its view of them (``model.student_obs_fn(obs)``); all through the shared head."""
    obs = np.asarray(obs, dtype=np.float32).reshape(-1, model.observation_space.shape[0])
    o = th.as_tensor(obs, device=model.device)
    s = th.as_tensor(np.asarray(model.student_obs_fn(obs), dtype=np.float32), device=model.device)
    head = model._student_head()
    with th.no_grad():
        out = {"teacher": model.policy.action_net(teacher_latent(model.policy, o)),
               "proxy": head(model.nets.proxy(o)),
               "student": head(model.nets.student(s))}
    return {k: v.cpu().double().numpy() for k, v in out.items()}


def log_std(model) -> np.ndarray:
    """The teacher's state-independent log-std (3,) float64, shared by teacher, proxy and student."""
    return model.policy.log_std.detach().cpu().double().numpy()


def kl_terms(mu_t: np.ndarray, mu_o: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Per action dimension, ``0.5 * ((mu_t - mu_o) / sigma)^2`` (N, K): the terms of the Gaussian KL (shared sigma)."""
    return 0.5 * ((np.asarray(mu_t, dtype=np.float64) - np.asarray(mu_o, dtype=np.float64)) / np.asarray(sigma)) ** 2


def kl_by_hand(mu_t: np.ndarray, mu_o: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """KL(N(mu_t, Sigma) || N(mu_o, Sigma)) with Sigma = diag(sigma^2), in the paper's Mahalanobis form
    ``0.5 * sum_k ((mu_t,k - mu_o,k) / sigma_k)^2`` (N,), numpy float64."""
    return kl_terms(mu_t, mu_o, sigma).sum(-1)


def who_sees_what(model, obs: np.ndarray) -> pd.DataFrame:
    """For one teacher observation (obs_dim,): what teacher, proxy and student are fed (entries), their means per
    action and the KL of each to the teacher (Mahalanobis form, the teacher's sigma)."""
    obs = np.asarray(obs, dtype=np.float32).reshape(1, -1)
    means = head_means(model, obs)
    sigma = np.exp(log_std(model))
    fed = {"teacher": f"teacher observation ({obs.shape[1]} entries)",
           "proxy": f"teacher observation ({obs.shape[1]} entries)",
           "student": f"student view ({np.asarray(model.student_obs_fn(obs)).shape[1]} entries)"}
    rows = []
    for who in ("teacher", "proxy", "student"):
        mu = means[who][0]
        rows.append({"network": who, "fed": fed[who], **{f"mean {a}": m for a, m in zip(ACTION_NAMES, mu)},
                     "KL(teacher || it)": float(kl_by_hand(means["teacher"], means[who], sigma)[0])})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------------------ roll-out


def rollout_table(model, env_rewards: np.ndarray) -> pd.DataFrame:
    """Every step of the model's roll-out buffer after :meth:`sitt.SITT.rollout_reward_term` (``env_rewards`` (T, E):
    the buffer's rewards before it), one row per (step, env): the env reward, the KL(teacher || proxy) by hand
    (:func:`kl_by_hand`, float64) and as SITT computes it (:func:`sitt.distributions.kl_divergence`), the term the
    buffer received (shaped minus env reward), ``sign x lambda1 x KL`` by hand, and the shaped reward."""
    buf, cfg = model.rollout_buffer, model.sitt_config
    T, E = buf.rewards.shape
    obs = buf.observations.reshape(T * E, -1)  # row t * E + e
    means = head_means(model, obs)
    sigma = np.exp(log_std(model))
    by_hand = kl_by_hand(means["teacher"], means["proxy"], sigma)
    with th.no_grad():
        by_sitt = kl_divergence(model.policy, th.as_tensor(means["teacher"], dtype=th.float32),
                                th.as_tensor(means["proxy"], dtype=th.float32)).double().numpy()
    env_r = np.asarray(env_rewards, dtype=np.float64).reshape(T * E)
    shaped = buf.rewards.astype(np.float64).reshape(T * E)
    steps, envs = np.divmod(np.arange(T * E), E)
    return pd.DataFrame({
        "step": steps, "env": envs, "env_reward": env_r, "kl_by_hand": by_hand, "kl_sitt": by_sitt,
        "term_in_buffer": shaped - env_r, "sign_lambda1_kl": cfg.reward_sign * cfg.reward_coef * by_hand,
        "shaped_reward": shaped,
    })


def rollout_check(table: pd.DataFrame) -> pd.Series:
    """The largest differences over the roll-out: KL by hand vs SITT's, and the buffer's term vs sign x lambda1 x KL
    (float32 rounding of the stored rewards only: about 1e-6 of a reward)."""
    term_gap = (table["term_in_buffer"] - table["sign_lambda1_kl"]).abs().max()
    return pd.Series({
        "max |KL by hand - KL sitt|": float((table["kl_by_hand"] - table["kl_sitt"]).abs().max()),
        "max |term in buffer - sign lambda1 KL|": float(term_gap),
        "mean KL": float(table["kl_by_hand"].mean()),
        "mean term": float(table["term_in_buffer"].mean()),
        "mean env reward": float(table["env_reward"].mean()),
    })


def rollout_flight(model, flight: FlightConfig, env_index: int = 0) -> dict[str, np.ndarray]:
    """Env ``env_index``'s first episode in the model's roll-out buffer (up to the first reset), on task ``flight``:
    ``pos`` (T', 2) (metres) and ``yaw`` (T',), read back from the stored observations, and ``rows`` (T',), its rows
    in :func:`rollout_table`."""
    buf = model.rollout_buffer
    T, E = buf.rewards.shape
    obs = buf.observations[:, env_index].astype(np.float64)  # (T, obs_dim)
    starts = np.flatnonzero(buf.episode_starts[1:, env_index]) + 1
    end = int(starts[0]) if len(starts) else T
    pos = np.stack([obs[:end, 0] * flight.length, obs[:end, 1] * flight.width / 2], axis=1)
    yaw = np.arctan2(obs[:end, 5], obs[:end, 4])
    return {"pos": pos, "yaw": yaw, "rows": np.arange(end) * E + env_index}


def kl_path_figure(worlds: Worlds, world: int, config: FlightConfig, pos: np.ndarray, yaw: np.ndarray,
                   kl: np.ndarray, title: str = "", figsize=(10, 4.6)) -> Figure:
    """World ``world`` with a flight ``pos`` (T, 2), ``yaw`` (T,) drawn with its view cones
    (:func:`fov_flight.render.draw_trajectory`), each step a dot coloured by ``kl`` (T,)."""
    fig = _agg_figure(figsize)
    ax = fig.add_subplot(1, 1, 1)
    draw_world(ax, worlds, world, config)
    draw_trajectory(ax, pos, yaw, config, every=max(1, len(pos) // 6), color="tab:blue", cone_alpha=0.08)
    dots = ax.scatter(pos[:, 0], pos[:, 1], c=np.asarray(kl), cmap="magma", s=18, zorder=3, edgecolors="none")
    fig.colorbar(dots, ax=ax, fraction=0.025, pad=0.01, label="KL(teacher || proxy)")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------------- parameters


def parameter_group(owner: str, name: str) -> str:
    """The group of a parameter: ``owner`` is ``"policy"`` (the teacher's SB3 policy) or ``"nets"`` (SITT's student
    networks), ``name`` its name there. ``ValueError`` for a parameter no group describes."""
    if owner == "policy":
        if name == "log_std":
            return "shared log-std"
        if name.startswith("action_net."):
            return "shared head"
        if name.startswith(("mlp_extractor.policy_net.", "features_extractor.", "pi_features_extractor.")):
            return "teacher MLP"
        if name.startswith(("mlp_extractor.value_net.", "value_net.", "vf_features_extractor.")):
            return "critic"
    elif owner == "nets":
        if name.startswith(("student.", "student_head.")):
            return "student"
        if name.startswith("proxy."):
            return "proxy"
    raise ValueError(f"parameter {owner}.{name}: in none of the groups {', '.join(PARAMETER_GROUPS)}")


def snapshot(model) -> dict[str, np.ndarray]:
    """A copy of every parameter of the model (teacher policy and student networks), ``{"policy.<name>": array}``."""
    out = {f"policy.{n}": p.detach().cpu().double().numpy().copy() for n, p in model.policy.named_parameters()}
    if model.nets is not None:
        out.update({f"nets.{n}": p.detach().cpu().double().numpy().copy() for n, p in model.nets.named_parameters()})
    return out


def changes(before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per parameter group (:data:`PARAMETER_GROUPS`): tensors, values, the largest absolute change between the two
    snapshots and whether anything changed."""
    if before.keys() != after.keys():
        raise ValueError("changes: the two snapshots hold different parameters")
    stats: dict[str, dict[str, Any]] = {g: {"tensors": 0, "values": 0, "max |change|": 0.0} for g in PARAMETER_GROUPS}
    for key, old in before.items():
        owner, name = key.split(".", 1)
        s = stats[parameter_group(owner, name)]
        s["tensors"] += 1
        s["values"] += old.size
        s["max |change|"] = max(s["max |change|"], float(np.abs(after[key] - old).max()) if old.size else 0.0)
    table = pd.DataFrame.from_dict(stats, orient="index")
    table = table[table["tensors"] > 0]
    table["changed"] = table["max |change|"] > 0
    table.index.name = "group"
    return table


# --------------------------------------------------------------------------------------------- action distances


def _bounds(model) -> tuple[np.ndarray, np.ndarray]:
    space = model.action_space
    return np.asarray(space.low, dtype=np.float64).reshape(-1), np.asarray(space.high, dtype=np.float64).reshape(-1)


def action_distance_table(model, mu_t: np.ndarray, mu_o: np.ndarray) -> pd.DataFrame:
    """The KL(teacher || other) with raw means and with executed (clipped) means, per action dimension and in all,
    for means ``mu_t``, ``mu_o`` (N, 3) (e.g. teacher and proxy on a roll-out's observations).

    Columns per dimension: the shared sigma; the range of each side's means; ``saturated share`` (samples where either
    mean lies outside the action bounds, so that the env executes the bound); the mean raw and clipped KL term of the
    dimension; ``raw KL from saturated`` (the share of the whole raw KL that comes from this dimension's saturated
    samples). Row ``all``: the KL itself (raw and clipped means match :func:`sitt.distributions.kl_divergence` with
    ``action_distance="raw"`` / ``"clipped"``, columns ``sitt raw``, ``sitt clipped``) and the share of the raw KL
    from saturated (sample, dimension) entries."""
    mu_t, mu_o = np.asarray(mu_t, dtype=np.float64), np.asarray(mu_o, dtype=np.float64)
    sigma = np.exp(log_std(model))
    low, high = _bounds(model)
    raw = kl_terms(mu_t, mu_o, sigma)  # (N, K)
    clipped = kl_terms(np.clip(mu_t, low, high), np.clip(mu_o, low, high), sigma)
    saturated = (mu_t < low) | (mu_t > high) | (mu_o < low) | (mu_o > high)
    total_raw = raw.sum()
    share = lambda x: float(x / total_raw) if total_raw > 0 else 0.0  # noqa: E731
    rows = []
    for k, name in enumerate(ACTION_NAMES[: raw.shape[1]]):
        rows.append({"action": name, "sigma": sigma[k], "teacher mean min": mu_t[:, k].min(),
                     "teacher mean max": mu_t[:, k].max(), "other mean min": mu_o[:, k].min(),
                     "other mean max": mu_o[:, k].max(), "saturated share": float(saturated[:, k].mean()),
                     "raw KL": float(raw[:, k].mean()), "clipped KL": float(clipped[:, k].mean()),
                     "raw KL from saturated": share(raw[:, k][saturated[:, k]].sum())})
    t, o = th.as_tensor(mu_t, dtype=th.float32), th.as_tensor(mu_o, dtype=th.float32)
    with th.no_grad():
        sitt_raw = float(kl_divergence(model.policy, t, o).double().mean())
        sitt_clipped = float(kl_divergence(model.policy, t, o, action_distance="clipped").double().mean())
    rows.append({"action": "all", "saturated share": float(saturated.any(axis=1).mean()),
                 "raw KL": float(raw.sum(1).mean()), "clipped KL": float(clipped.sum(1).mean()),
                 "raw KL from saturated": share(raw[saturated].sum()), "sitt raw": sitt_raw,
                 "sitt clipped": sitt_clipped})
    return pd.DataFrame(rows).set_index("action")


def clipping_example(model, pairs=((0.3, -0.2), (0.9, 1.6), (1.4, 2.5), (-1.7, 1.2))) -> pd.DataFrame:
    """What clipping does to one action dimension (the first, with the model's sigma): for each pair of means
    (teacher, other), the executed actions (clamped to the bounds, :func:`sitt.distributions.executed_output`) and the
    dimension's raw and clipped KL terms."""
    sigma = float(np.exp(log_std(model))[0])
    low, high = _bounds(model)
    rows = []
    for mt, mo in pairs:
        out = th.tensor([[mt, 0.0, 0.0], [mo, 0.0, 0.0]], dtype=th.float64)
        executed = executed_output(out, model.action_space, "clipped")[:, 0].double().numpy()
        ct, co = np.clip(mt, low[0], high[0]), np.clip(mo, low[0], high[0])
        rows.append({"teacher mean": mt, "other mean": mo, "teacher executes": executed[0],
                     "other executes": executed[1],
                     "raw KL term": float(kl_terms([[mt]], [[mo]], [sigma])[0, 0]),
                     "clipped KL term": float(kl_terms([[ct]], [[co]], [sigma])[0, 0])})
    return pd.DataFrame(rows)
