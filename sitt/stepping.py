"""Stepping through SITT's phases by hand, as ``learn`` would run them: for notebooks that show one iteration.

``start_learning`` does what ``learn`` does before its first iteration, ``raw_rollout`` runs SB3's roll-out phase
alone (the env rewards, without SITT's reward term: call ``model.rollout_reward_term(model.rollout_buffer)`` next),
then ``model.policy_update()`` and ``model.align()`` are the other two phases; ``logged`` shows what each phase logged.
Generic over any :class:`sitt.SITT` model (the maze's and the flight's walkthroughs use them).
"""

from __future__ import annotations

import numpy as np
from stable_baselines3 import PPO


def start_learning(model, total_timesteps: int):
    """What ``learn`` does before its first iteration (``_setup_learn``, callback start); returns the callback to pass
    to :func:`raw_rollout`."""
    total, callback = model._setup_learn(total_timesteps, None, True, "walkthrough", False)
    callback.on_training_start(locals(), globals())
    model._walkthrough_total = total
    return callback


def raw_rollout(model, callback) -> bool:
    """SB3's roll-out phase only (``PPO.collect_rollouts``): the teacher acts and the env rewards are stored, without
    SITT's reward term (call ``model.rollout_reward_term(model.rollout_buffer)`` next). Updates the progress fraction
    as ``learn`` does."""
    ok = PPO.collect_rollouts(model, model.env, callback, model.rollout_buffer, model.n_steps)
    total = getattr(model, "_walkthrough_total", model.num_timesteps)
    model._update_current_progress_remaining(model.num_timesteps, total)
    return ok


def logged(model, prefixes: tuple[str, ...] = ("train/", "sitt/", "rollout/"), clear: bool = False) -> dict[str, float]:
    """The values the model's logger holds right now (recorded since the last dump), filtered by prefix; with
    ``clear`` the logger forgets them, so the next call shows only what the next phase records."""
    logger = model.logger
    values = getattr(logger, "name_to_value", {})
    out = {k: float(v) for k, v in sorted(values.items()) if k.startswith(prefixes) and np.isscalar(v)}
    if clear:
        for name in ("name_to_value", "name_to_count", "name_to_excluded"):
            if hasattr(logger, name):
                getattr(logger, name).clear()
    return out


__all__ = ["logged", "raw_rollout", "start_learning"]
