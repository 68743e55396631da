"""ColorMazeEnv: exact transitions on hand-built mazes, quirk switches, student view, SB3 protocol,
validation errors, equality with ReferenceColorMaze, and a short PPO run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import color_maze
from color_maze import ColorMazeEnv, Quirks, kl_groups, make_mazes, student_obs
from color_maze.reference import ReferenceColorMaze

R, D, L, U = 0, 1, 2, 3  # right (+x), down (+y), left (-x), up (-y)

# Hand-built mazes: G = 7, M = 2 -> target (3, 1), start (3, 5), timeout on step 50.
G7, M7 = 7, 2
TARGET7, START7 = (3, 1), (3, 5)


def small_env(cells: dict | None = None, quirks="release") -> ColorMazeEnv:
    grid = np.zeros((1, G7, G7), dtype=np.int64)
    for (x, y), state in (cells or {}).items():
        grid[0, x, y] = state
    return ColorMazeEnv.from_grids(grid, margin_size=M7, quirks=quirks)


def step1(env: ColorMazeEnv, action: int):
    obs, rew, done, infos = env.step(np.array([action]))
    assert obs.shape == (1, 9) and rew.shape == (1,) and done.shape == (1,) and len(infos) == 1
    return obs[0], float(rew[0]), bool(done[0]), infos[0]


def expected_obs(pos, states, feature):
    return np.array([TARGET7[0] - pos[0], TARGET7[1] - pos[1], *states, *feature], dtype=np.float64)


# ----------------------------------------------------------------------------- layout / reset
def test_layout_attributes_and_reset_observation():
    env = small_env({(3, 4): 2, (2, 5): 1})
    assert env.num_envs == 1 and env.grid_size == 7 and env.margin_size == 2
    assert tuple(env.target) == TARGET7 and tuple(env.start) == START7
    default = ColorMazeEnv(n_envs=3, seed=0)
    assert tuple(default.target) == (10, 1) and tuple(default.start) == (10, 19)
    assert default.grids.shape == (3, 21, 21) and default.visits.shape == (3, 21, 21)
    obs = env.reset()
    # own 0, below (3,6) 0, right (4,5) 0, above (3,4) path, left (2,5) fail; feature -1, -1
    np.testing.assert_array_equal(obs[0], expected_obs(START7, [0, 0, 0, 2, 1], [-1, -1]))
    assert obs.dtype == np.float64 and env.observation_space.dtype == np.float64
    assert env.observation_space.shape == (9,) and env.action_space.n == 4
    assert env.visits.sum() == 1 and env.visits[0, 3, 5] == 1
    np.testing.assert_array_equal(env.agent_pos, [START7])
    np.testing.assert_array_equal(env.last_pos, [START7])


def test_fixed_mode_reset_observation_is_float32_with_zero_displacement():
    env = small_env({(3, 4): 2, (2, 5): 1}, quirks="fixed")
    obs = env.reset()
    assert obs.dtype == np.float32 and env.observation_space.dtype == np.float32
    np.testing.assert_array_equal(obs[0], expected_obs(START7, [0, 0, 0, 2, 1], [0, 0]))


def test_float64_switch_alone():
    env = small_env(quirks={"float64_obs": False})
    assert env.reset().dtype == np.float32
    obs, *_ = step1(env, U)
    assert obs.dtype == np.float32
    assert obs[7] == -1 and obs[8] == -2  # still the release's two-step feature


# ----------------------------------------------------------------------------- rewards
def test_path_first_entry_revisit_visits_and_n_paths():
    env = small_env({(3, 4): 2, (3, 3): 2, (2, 4): 1})
    env.reset()
    obs, r, done, info = step1(env, U)  # first entry of (3,4)
    assert (r, done, info) == (0.5, False, {})
    assert env.visits[0, 3, 4] == 1 and env.visits[0, 3, 5] == 1
    obs, r, done, _ = step1(env, D)  # back to the start: normal cell
    assert (r, done) == (0.0, False) and env.visits[0, 3, 5] == 2
    obs, r, done, _ = step1(env, U)  # revisit
    assert (r, done) == (-0.5, False) and env.visits[0, 3, 4] == 2
    obs, r, done, _ = step1(env, U)  # first entry of (3,3)
    assert (r, done) == (0.5, False)
    obs, r, done, _ = step1(env, D)  # third visit of (3,4)
    assert (r, done) == (-0.5, False) and env.visits[0, 3, 4] == 3
    assert env.n_paths[0] == 4 and env.episode_length[0] == 5
    obs, r, done, info = step1(env, L)  # (2,4) fail
    assert r == pytest.approx(-0.1) and done
    assert info["episode"] == {"l": 5, "r": pytest.approx(-0.1), "n_paths": 4}
    assert info["is_success"] is False and info["TimeLimit.truncated"] is False


def test_failure_ends_the_episode_and_auto_reset_restores_the_start():
    env = small_env({(3, 4): 2, (4, 4): 1})
    env.reset()
    step1(env, U)
    obs, r, done, info = step1(env, R)  # (4,4) fail
    assert r == -0.1 and done
    assert info["episode"] == {"l": 1, "r": pytest.approx(0.4), "n_paths": 1}
    assert not info["is_success"] and not info["TimeLimit.truncated"]
    np.testing.assert_array_equal(env.agent_pos, [START7])
    assert env.visits.sum() == 1 and env.visits[0, 3, 5] == 1
    assert env.episode_length[0] == 0 and env.episode_return[0] == 0.0 and env.n_paths[0] == 0
    # the returned observation is the new episode's start (release: feature -1, -1)
    np.testing.assert_array_equal(obs, expected_obs(START7, [0, 0, 0, 2, 0], [-1, -1]))
    # release quirk 2: terminal_observation is that same post-reset observation
    np.testing.assert_array_equal(info["terminal_observation"], obs)
    # the new episode runs: first entry of (3,4) pays again
    _, r, done, _ = step1(env, U)
    assert (r, done) == (0.5, False)


def test_success_pays_ten_and_ends_the_episode():
    for quirks, length in (("release", 3), ("fixed", 4)):
        env = small_env({(3, 4): 2, (3, 3): 2, (3, 2): 2}, quirks=quirks)
        env.reset()
        rewards = [step1(env, U)[1] for _ in range(3)]
        assert rewards == [0.5, 0.5, 0.5]
        obs, r, done, info = step1(env, U)  # (3,1) is the target
        assert r == 10.0 and done
        assert info["is_success"] is True and info["TimeLimit.truncated"] is False
        assert info["episode"] == {"l": length, "r": 11.5, "n_paths": 3}


def test_start_cell_on_a_path_counts_as_visited():
    env = small_env({(3, 5): 2, (3, 4): 2, (2, 4): 1})
    env.reset()
    assert env.n_paths[0] == 1
    assert step1(env, U)[1] == 0.5
    assert step1(env, D)[1] == -0.5  # the start was counted at reset
    _, r, done, info = step1(env, U)
    _, r, done, info = step1(env, L)
    assert done and info["episode"]["n_paths"] == 4  # start 2 + (3,4) 2
    assert env.n_paths[0] == 1 and env.visits[0, 3, 5] == 1  # counted again after the auto-reset
    step1(env, U)
    _, r, done, info = step1(env, L)
    assert done and info["episode"]["n_paths"] == 2


def test_moves_are_clipped_at_the_outer_wall():
    env = small_env()
    env.reset()
    obs, r, done, _ = step1(env, D)
    np.testing.assert_array_equal(env.agent_pos, [(3, 6)])
    assert obs[3] == 4  # below (3,7) is outside: border
    obs, r, done, _ = step1(env, D)  # into the wall: stays
    np.testing.assert_array_equal(env.agent_pos, [(3, 6)])
    assert (r, done) == (0.0, False) and env.visits[0, 3, 6] == 2
    for _ in range(4):
        obs, *_ = step1(env, R)
    np.testing.assert_array_equal(env.agent_pos, [(6, 6)])
    np.testing.assert_array_equal(obs[2:7], [0, 4, 4, 0, 0])  # own, below, right, above, left


# ----------------------------------------------------------------------------- timeout
@pytest.mark.parametrize("quirks,length", [("release", 49), ("fixed", 50)])
def test_timeout_on_step_g_squared_plus_one(quirks, length):
    env = small_env(quirks=quirks)
    env.reset()
    for t in range(1, 50):  # 49 = G*G steps: no timeout yet
        obs, r, done, info = step1(env, D)
        assert not done and info == {}, t
    assert env.episode_length[0] == 49
    obs, r, done, info = step1(env, D)  # step 50
    assert done and r == 0.0
    assert info["TimeLimit.truncated"] is True and info["is_success"] is False
    assert info["episode"] == {"l": length, "r": 0.0, "n_paths": 0}
    if quirks == "release":  # the observation after the reset (quirk 2)
        np.testing.assert_array_equal(info["terminal_observation"], expected_obs(START7, [0] * 5, [-1, -1]))
    else:  # the true last observation at (3,6), displacement 0 (pushed into the wall)
        np.testing.assert_array_equal(info["terminal_observation"], expected_obs((3, 6), [0, 4, 0, 0, 0], [0, 0]))
        assert info["terminal_observation"].dtype == np.float32
    np.testing.assert_array_equal(env.agent_pos, [START7])
    # the next episode gets the full G*G + 1 steps again
    for t in range(49):
        assert not step1(env, D)[2]
    assert step1(env, D)[2]


def test_terminal_observation_switch_alone_keeps_release_feature():
    env = small_env(quirks={"terminal_obs_after_reset": False})
    env.reset()
    for _ in range(49):
        step1(env, D)
    _, _, done, info = step1(env, D)
    assert done and info["episode"]["l"] == 49
    np.testing.assert_array_equal(info["terminal_observation"], expected_obs((3, 6), [0, 4, 0, 0, 0], [-1, -1]))


def test_failure_on_the_timeout_step_is_not_a_truncation():
    env = small_env({(2, 6): 1})
    env.reset()
    for _ in range(49):
        assert not step1(env, D)[2]
    _, r, done, info = step1(env, L)  # step 50 steps onto fail
    assert done and r == -0.1 and info["TimeLimit.truncated"] is False


# ----------------------------------------------------------------------------- last-cell feature
def test_last_cell_feature_release_is_two_step_minus_one_and_mixes_episodes():
    env = small_env({(4, 4): 1})
    env.reset()
    feats = [tuple(step1(env, a)[0][7:9]) for a in (U, U, R, R, L)]
    # pos(t) - (pos(t-2) + 1), with pos(-1) = pos(0) = start
    assert feats == [(-1, -2), (-1, -3), (0, -2), (1, -1), (-1, -1)]
    env.reset()
    step1(env, U)  # (3,4)
    obs, _, done, _ = step1(env, R)  # (4,4) fail: reset, feature start - (start + 1)
    assert done and tuple(obs[7:9]) == (-1, -1)
    obs, *_ = step1(env, R)  # new episode, (4,5): against the old episode's pre-terminal cell (3,4)
    assert tuple(obs[7:9]) == (4 - (3 + 1), 5 - (4 + 1))


def test_last_cell_feature_fixed_is_one_step_displacement():
    env = small_env({(4, 4): 1}, quirks="fixed")
    env.reset()
    feats = [tuple(step1(env, a)[0][7:9]) for a in (U, U, R, R, L, L, D, D, D, D)]
    assert feats == [(0, -1), (0, -1), (1, 0), (1, 0), (-1, 0), (-1, 0), (0, 1), (0, 1), (0, 1), (0, 0)]
    env.reset()
    step1(env, U)
    obs, _, done, info = step1(env, R)  # fail
    assert done and tuple(obs[7:9]) == (0, 0)
    assert tuple(info["terminal_observation"][7:9]) == (1, 0)  # the true last observation
    np.testing.assert_array_equal(info["terminal_observation"][:2], [3 - 4, 1 - 4])
    assert step1(env, U)[0][7:9].tolist() == [0, -1]
    np.testing.assert_array_equal(env.last_pos, [(3, 5)])


# ----------------------------------------------------------------------------- API details
def test_reset_starts_fresh_episodes_everywhere_without_new_mazes():
    env = ColorMazeEnv(n_envs=5, seed=1)
    grids = env.grids.copy()
    env.reset()
    for _ in range(3):
        env.step(np.full(5, U))
    env.reset()
    assert np.all(env.episode_length == 0) and np.all(env.episode_return == 0.0)
    assert np.all(env.visits.sum(axis=(1, 2)) == 1)
    np.testing.assert_array_equal(env.grids, grids)
    np.testing.assert_array_equal(env.agent_pos, np.tile(env.start, (5, 1)))


def test_actions_shapes_and_infos_only_for_done_envs():
    grid = np.zeros((3, G7, G7), dtype=np.int8)
    grid[1, 2, 5] = 1
    env = ColorMazeEnv.from_grids(grid, margin_size=M7)
    env.reset()
    obs, rew, done, infos = env.step(np.array([[L], [L], [L]]))  # (n, 1) accepted
    assert done.tolist() == [False, True, False] and rew.dtype == np.float64 and done.dtype == bool
    assert infos[0] == {} and infos[2] == {} and infos[0] is not infos[2]
    assert set(infos[1]) == {"TimeLimit.truncated", "terminal_observation", "episode", "is_success"}
    env.step([U, U, U])  # lists are fine too


def test_sb3_vecenv_protocol():
    env = ColorMazeEnv(n_envs=4, seed=0)
    assert env.get_attr("grid_size") == [21] * 4
    assert env.get_attr("grid_size", indices=2) == [21]
    assert env.get_attr("margin_size", indices=[0, 3]) == [3, 3]
    env.set_attr("some_flag", 5)
    assert env.get_attr("some_flag", [1]) == [5]
    assert env.env_is_wrapped(object) == [False] * 4
    obs = env.reset()
    masked = env.env_method("student_obs", obs, indices=[0, 1])
    assert len(masked) == 2 and np.array_equal(masked[0], student_obs(obs))
    grids = env.grids.copy()
    assert env.seed(10) == [10, 11, 12, 13] and env.seed() == [None] * 4
    np.testing.assert_array_equal(env.grids, grids)
    assert env.quirks == Quirks.release() and env.quirks.any_termination_success
    env.close()


def test_views_handed_out_stay_valid_after_steps():
    env = small_env({(2, 5): 1})
    env.reset()
    pos_before = env.agent_pos.copy()
    view = env.agent_pos
    step1(env, U)
    np.testing.assert_array_equal(view, pos_before)
    with pytest.raises(ValueError):
        env.agent_pos[0, 0] = 1  # read-only


# ----------------------------------------------------------------------------- student view
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_student_obs_masks_cell_states(dtype):
    obs = np.array([[3, -4, 0, 1, 2, 3, 4, -1, -1], [-1, 2, 1, 4, 0, 2, 3, 1, 0]], dtype=dtype)
    original = obs.copy()
    out = student_obs(obs)
    np.testing.assert_array_equal(out[0], [3, -4, 0, 2, 2, 2, 4, -1, -1])
    np.testing.assert_array_equal(out[1], [-1, 2, 2, 4, 0, 2, 2, 1, 0])
    assert out.dtype == dtype
    np.testing.assert_array_equal(obs, original)  # input untouched
    batch = np.stack([obs, obs])  # (2, 2, 9)
    np.testing.assert_array_equal(student_obs(batch), np.stack([out, out]))
    np.testing.assert_array_equal(ColorMazeEnv(2, seed=0).student_obs(obs), out)
    t = torch.as_tensor(obs)
    np.testing.assert_array_equal(student_obs(t).numpy(), out)
    assert torch.equal(t, torch.as_tensor(original))
    with pytest.raises(ValueError, match="obs"):
        student_obs(np.zeros((3, 8)))


def test_student_cannot_tell_fail_from_path_on_env_observations():
    env = ColorMazeEnv(n_envs=200, seed=4)
    obs = env.reset()
    for _ in range(5):
        obs, *_ = env.step(np.random.default_rng(0).integers(0, 4, 200))
    s = student_obs(obs)
    assert set(np.unique(s[:, 2:7])) <= {0, 2, 4} and 2 in s[:, 2:7]
    assert set(np.unique(obs[:, 2:7])) >= {0, 1}


def test_kl_groups():
    obs = np.zeros((4, 9))
    obs[:, 2] = [0, 2, 1, 2]
    groups = kl_groups(obs)
    assert groups["path"].tolist() == [False, True, False, True]
    assert groups["normal"].tolist() == [True, False, False, False]
    assert ColorMazeEnv(1, seed=0).kl_groups(obs)["path"].dtype == bool


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"n_envs": 0}, "n_envs"),
        ({"n_envs": -3}, "n_envs"),
        ({"n_envs": 2.0}, "n_envs"),
        ({"n_envs": True}, "n_envs"),
        ({"grid_size": 3, "margin_size": 1}, "grid_size"),
        ({"grid_size": "21"}, "grid_size"),
        ({"margin_size": 0}, "margin_size"),
        ({"margin_size": 10}, "margin_size"),  # S = 1
        ({"grid_size": 9, "margin_size": 4}, "margin_size"),
        ({"seed": -1}, "seed"),
        ({"seed": "abc"}, "seed"),
        ({"quirks": "paper"}, "quirks"),
        ({"quirks": {"float64": False}}, "quirks"),
        ({"quirks": {"float64_obs": 0}}, "quirks"),
        ({"quirks": None}, "quirks"),
    ],
)
def test_constructor_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ColorMazeEnv(**{"n_envs": 2, **kwargs})


def test_error_messages_give_the_allowed_range():
    with pytest.raises(ValueError, match=r"\[1, 9\]"):
        ColorMazeEnv(n_envs=1, margin_size=10)
    with pytest.raises(ValueError, match="last_cell_two_step"):
        ColorMazeEnv(n_envs=1, quirks={"bogus": True})
    with pytest.raises(ValueError, match="n must be"):
        make_mazes(0)


@pytest.mark.parametrize(
    "grids,margin,match",
    [
        (np.zeros((7, 7)), 2, "shape"),
        (np.zeros((1, 7, 8)), 2, "shape"),
        (np.zeros((0, 7, 7)), 2, "shape"),
        (np.full((1, 7, 7), 4), 2, "0..3"),
        (np.full((1, 7, 7), -1), 2, "0..3"),
        (np.full((1, 7, 7), 0.5), 2, "grids"),
        (np.full((1, 7, 7), "a"), 2, "grids"),
        (np.zeros((1, 7, 7)), 3, "margin_size"),
        (np.zeros((1, 3, 3)), 1, "grid_size"),
    ],
)
def test_from_grids_validation(grids, margin, match):
    with pytest.raises(ValueError, match=match):
        ColorMazeEnv.from_grids(grids, margin_size=margin)


def test_from_grids_accepts_whole_floats_and_copies():
    grid = np.zeros((1, 7, 7))
    env = ColorMazeEnv.from_grids(grid, margin_size=2)
    grid[0, 3, 4] = 1
    assert env.grids.dtype == np.int8 and env.grids[0, 3, 4] == 0


@pytest.mark.parametrize(
    "actions,match",
    [
        (np.array([0, 4]), "0..3"),
        (np.array([-1, 0]), "0..3"),
        (np.array([0.0, 1.0]), "integers"),
        (np.array([0, 1, 2]), "shape"),
        (np.array([[0, 1]]), "shape"),
    ],
)
def test_action_validation(actions, match):
    env = ColorMazeEnv(n_envs=2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="actions") as err:
        env.step(actions)
    assert match in str(err.value)


# ----------------------------------------------------------------------------- vs the reference
MARGIN_ROUTE = [L] * 8 + [U] * 18 + [R] * 8  # start (10,19) round the maze to the target (10,1)


def run_against_reference(grids, margin, quirks, policy, steps):
    env = ColorMazeEnv.from_grids(grids, margin_size=margin, quirks=quirks)
    ref = ReferenceColorMaze(grids, margin_size=margin, quirks=quirks)
    np.testing.assert_array_equal(env.reset(), ref.reset())
    counts = {"success": 0, "failure": 0, "timeout": 0}
    for t in range(steps):
        actions = policy(t)
        o1, r1, d1, i1 = env.step(actions)
        o2, r2, d2, i2 = ref.step(actions)
        assert o1.dtype == o2.dtype
        np.testing.assert_array_equal(o1, o2, err_msg=f"obs at step {t}")
        np.testing.assert_array_equal(r1, r2, err_msg=f"reward at step {t}")
        np.testing.assert_array_equal(d1, d2, err_msg=f"dones at step {t}")
        for a, b in zip(i1, i2):
            assert a.keys() == b.keys()
            if a:
                np.testing.assert_array_equal(a["terminal_observation"], b["terminal_observation"])
                assert a["terminal_observation"].dtype == b["terminal_observation"].dtype
                assert a["episode"] == b["episode"], (t, a["episode"], b["episode"])
                assert a["is_success"] == b["is_success"]
                assert a["TimeLimit.truncated"] == b["TimeLimit.truncated"]
                kind = "timeout" if a["TimeLimit.truncated"] else "success" if a["is_success"] else "failure"
                counts[kind] += 1
        np.testing.assert_array_equal(env.agent_pos, np.array(ref.agent_pos))
        np.testing.assert_array_equal(env.last_pos, np.array(ref.last_pos))
        if t % 50 == 0:
            np.testing.assert_array_equal(env.visits, ref.visits)
            np.testing.assert_array_equal(env.episode_length, ref.episode_length)
    return counts


@pytest.mark.parametrize("quirks", ["release", "fixed", {"terminal_obs_after_reset": False, "float64_obs": False}])
def test_equal_to_reference_on_generated_mazes(quirks):
    n = 12
    grids = make_mazes(n, seed=5)
    rng = np.random.default_rng(0)
    random_actions = rng.integers(0, 4, size=(1000, n))

    def policy(t):
        a = random_actions[t].copy()
        a[0:3] = MARGIN_ROUTE[t % len(MARGIN_ROUTE)]  # succeed every 34 steps
        a[3] = D  # pushes into the bottom wall: times out every 442 steps
        a[4] = MARGIN_ROUTE[t % 10]  # leftwards/upwards drift
        return a

    counts = run_against_reference(grids, 3, quirks, policy, 1000)
    assert counts["success"] >= 80 and counts["timeout"] >= 2 and counts["failure"] >= 50, counts


@pytest.mark.parametrize("quirks", ["release", "fixed"])
def test_equal_to_reference_on_random_grids(quirks):
    # any state anywhere (target on fail or path cells, start on a path, green cells): the
    # env must still follow the release's arithmetic; small grids time out often
    rng = np.random.default_rng(1)
    n, G = 10, 6
    grids = rng.choice(4, size=(n, G, G), p=[0.6, 0.1, 0.2, 0.1])
    grids[:4, 3, 4] = 2  # start cells on a path
    grids[4:6, 3, 0] = [1, 2]  # target cells on fail / path
    actions = rng.integers(0, 4, size=(800, n))
    actions[:, :3] = rng.choice([U, D], size=(800, 3))  # up/down in the centre column
    counts = run_against_reference(grids, 1, quirks, lambda t: actions[t], 800)
    assert min(counts.values()) >= 3, counts


# ----------------------------------------------------------------------------- SB3
@pytest.mark.parametrize("quirks", ["release", "fixed"])
def test_ppo_learns_a_few_hundred_steps(quirks):
    from stable_baselines3 import PPO

    env = ColorMazeEnv(n_envs=8, seed=0, quirks=quirks)
    model = PPO("MlpPolicy", env, n_steps=8, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=320)
    assert model.num_timesteps == 320
    assert len(model.ep_info_buffer) > 0 and {"l", "r", "n_paths"} <= set(model.ep_info_buffer[0])
    action, _ = model.predict(env.reset(), deterministic=True)
    assert action.shape == (8,)


def test_package_exports():
    for name in ("ColorMazeEnv", "make_mazes", "student_obs", "Quirks", "resolve_quirks"):
        assert hasattr(color_maze, name)
