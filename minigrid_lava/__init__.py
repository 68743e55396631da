"""MiniGrid's lava envs (the third-party ``minigrid`` package) as a task of the study: the teacher sees the full
grid (``FullyObsWrapper``), the student MiniGrid's own egocentric partial view.

* :mod:`minigrid_lava.views`: the student view as a pure vectorised function of the teacher's observation;
* :mod:`minigrid_lava.env`: wrappers, level streams, SB3 vectorisation (:func:`make_vec_env`);
* :mod:`minigrid_lava.evaluate`: held-out levels, one episode each; :mod:`minigrid_lava.oracle`: a shortest-path
  policy on the full grid; :mod:`minigrid_lava.probes`: does the partial view matter (tabular imitation probes);
* :mod:`minigrid_lava.figures`: rendering; :mod:`minigrid_lava.design`: the study design (configs, arms, profiles,
  experiments, claims); :mod:`minigrid_lava.task`: the study's task (``TASK``).
"""

from minigrid_lava.env import held_out_level_seeds, make_env, make_vec_env, train_stream_seed
from minigrid_lava.views import student_obs, student_view

__all__ = ["held_out_level_seeds", "make_env", "make_vec_env", "student_obs", "student_view", "train_stream_seed"]
