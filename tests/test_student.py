"""The one student (sitt.student.StudentPolicy) on anyone's env: flat, Dict and image views, SB3-chosen encoders,
the student_obs_fn contract and its errors, save/load round trips (issue 13)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.torch_layers import CombinedExtractor, NatureCNN
from stable_baselines3.common.vec_env import VecTransposeImage

from sitt import SITT
from sitt.networks import Encoder
from sitt.student import StudentPolicy
from tests.sitt_helpers import cartpole

N_ENVS, N_STEPS = 2, 16
SMALL = dict(n_steps=N_STEPS, batch_size=N_STEPS * N_ENVS, n_epochs=1, align_epochs=2, seed=0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def positions(obs: np.ndarray) -> np.ndarray:
    """CartPole student that sees 2 of 4 features (cart position, pole angle): (N, 4) -> (N, 2)."""
    return obs[:, [0, 2]]


class DotEnv(gym.Env):
    """A dot walks on a 36 x 36 grid to a target. Teacher: the flat state (dot x, y, target x, y) / 35. The student
    sees :func:`dot_image` of it; with ``image_obs`` the env itself returns a channels-last RGB image (H, W, 3)."""

    SIZE = 36

    def __init__(self, image_obs: bool = False):
        self.image_obs = image_obs
        self.action_space = spaces.Discrete(4)
        if image_obs:
            self.observation_space = spaces.Box(0, 255, (self.SIZE, self.SIZE, 3), np.uint8)
        else:
            self.observation_space = spaces.Box(0.0, 1.0, (4,), np.float32)

    def _obs(self):
        state = np.concatenate([self.pos, self.target]).astype(np.float32) / (self.SIZE - 1)
        if not self.image_obs:
            return state
        img = np.zeros((self.SIZE, self.SIZE, 3), np.uint8)
        img[self.pos[1], self.pos[0], 0] = 255
        img[self.target[1], self.target[0], 1] = 255
        return img

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = self.np_random.integers(0, self.SIZE, 2)
        self.target = self.np_random.integers(0, self.SIZE, 2)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.pos = np.clip(self.pos + [(1, 0), (-1, 0), (0, 1), (0, -1)][int(action)], 0, self.SIZE - 1)
        self.t += 1
        done = bool((self.pos == self.target).all())
        return self._obs(), float(done), done, self.t >= 50, {}


def dot_image(obs: np.ndarray) -> np.ndarray:
    """Student view of DotEnv's flat state: a (N, 36, 36, 1) uint8 image, channels-last, dot only (no target)."""
    xy = np.rint(obs[:, :2] * (DotEnv.SIZE - 1)).astype(int)
    img = np.zeros((len(obs), DotEnv.SIZE, DotEnv.SIZE, 1), np.uint8)
    img[np.arange(len(obs)), xy[:, 1], xy[:, 0], 0] = 255
    return img


def red_channel(obs: np.ndarray) -> np.ndarray:
    """Student view of DotEnv's image: the red channel (dot only), (N, 36, 36, 3) -> (N, 36, 36, 1), channels-last.
    Asserts the contract: student_obs_fn receives the env's layout, before SB3's VecTransposeImage."""
    assert obs.shape[1:] == (DotEnv.SIZE, DotEnv.SIZE, 3), obs.shape
    return obs[..., :1]


def dict_cartpole(n_envs: int = N_ENVS, seed: int = 0):
    def to_dict(o):
        return {"pos": o[[0, 2]].astype(np.float32), "vel": o[[1, 3]].astype(np.float32)}

    space = spaces.Dict({"pos": spaces.Box(-np.inf, np.inf, (2,), np.float32),
                         "vel": spaces.Box(-np.inf, np.inf, (2,), np.float32)})
    make = lambda: gym.wrappers.TransformObservation(gym.make("CartPole-v1"), to_dict, space)
    return make_vec_env(make, n_envs=n_envs, seed=seed)


def params(module) -> dict[str, th.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        assert th.equal(a[k], b[k]), k


def round_trip(model, tmp_path, env, student_obs_fn, student_obs):
    model.save(tmp_path / "model.zip")
    loaded = SITT.load(tmp_path / "model.zip", env=env, student_obs_fn=student_obs_fn)
    th.testing.assert_close(loaded.student_logits(student_obs), model.student_logits(student_obs), rtol=0, atol=0)
    np.testing.assert_array_equal(loaded.predict_student(student_obs)[0], model.predict_student(student_obs)[0])
    model.student.save(tmp_path / "student.pt")
    alone = StudentPolicy.load(tmp_path / "student.pt", model.policy)
    th.testing.assert_close(alone.logits(student_obs), model.student_logits(student_obs), rtol=0, atol=0)
    return loaded


# ---------------------------------------------------------------- defaults


def test_cartpole_student_seeing_two_of_four_features_defaults_only(tmp_path):
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=positions, **SMALL)
    assert model.student_observation_space.shape == (2,)
    sizes = [m.in_features for m in model.nets.student if isinstance(m, th.nn.Linear)]
    assert sizes == [2, 64]  # a fresh MLP with the teacher's hidden sizes (64, 64), not a copy of the teacher's
    before = params(model.nets)
    model.learn(2 * N_STEPS * N_ENVS)
    assert all(not th.equal(before[k], v) for k, v in model.nets.state_dict().items())  # student and proxy trained
    view = positions(model.env.reset())
    actions, _ = model.predict_student(view)
    assert actions.shape == (N_ENVS,) and np.ndim(model.predict_student(view[0])[0]) == 0
    round_trip(model, tmp_path, cartpole(N_ENVS), positions, view).learn(N_STEPS * N_ENVS)


def test_same_size_flat_student_is_a_copy_of_the_teacher_mlp():
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=lambda o: o * [1, 0, 1, 0], **SMALL)
    assert model.nets.student.copied_from_teacher
    teacher = model.policy.mlp_extractor.policy_net.state_dict()
    assert_same(teacher, model.nets.student.state_dict())  # the release's initialisation, keys 0.*, 2.*


def test_dict_observation_teacher_with_flat_and_dict_students(tmp_path):
    env = dict_cartpole()
    model = SITT("MultiInputPolicy", env, student_obs_fn=lambda o: o["pos"], **SMALL)
    assert isinstance(model.nets.proxy[0], CombinedExtractor)  # the proxy sees the teacher's Dict like the teacher
    before = params(model.nets)
    model.learn(2 * N_STEPS * N_ENVS)
    assert all(not th.equal(before[k], v) for k, v in model.nets.state_dict().items())
    view = model.env.reset()["pos"]
    round_trip(model, tmp_path, dict_cartpole(), lambda o: o["pos"], view)

    dict_view = lambda o: {"pos": o["pos"][:, :1], "angle": o["pos"][:, 1:]}
    both = SITT("MultiInputPolicy", dict_cartpole(), student_obs_fn=dict_view, **SMALL)
    assert isinstance(both.student_observation_space, spaces.Dict)
    assert isinstance(both.nets.student[0], CombinedExtractor)
    both.learn(N_STEPS * N_ENVS)
    obs = both.env.reset()
    assert both.predict_student(dict_view(obs))[0].shape == (N_ENVS,)
    with pytest.raises(ValueError, match="^student_obs"):
        both.predict_student(obs["pos"])  # not the student's Dict


def test_image_student_gets_a_cnn_encoder_and_sb3_preprocessing(tmp_path):
    model = SITT("MlpPolicy", make_vec_env(DotEnv, n_envs=N_ENVS, seed=0), student_obs_fn=dot_image, **SMALL)
    encoder = model.nets.student
    assert isinstance(encoder, Encoder) and isinstance(encoder[0], NatureCNN)
    assert encoder[0].cnn[0].in_channels == 1  # channels-last view transposed inside the encoder
    view = dot_image(model.env.reset())  # (N, 36, 36, 1) uint8
    with th.no_grad():  # SB3's image preprocessing: / 255 before the CNN
        x = th.as_tensor(view).float().permute(0, 3, 1, 2) / 255.0
        expected = x
        for layer in encoder:  # NatureCNN, then the MLP
            expected = layer(expected)
    th.testing.assert_close(encoder(th.as_tensor(view).float()), expected)
    before = params(model.nets.student)
    model.learn(2 * N_STEPS * N_ENVS)
    assert all(not th.equal(before[k], v) for k, v in model.nets.student.state_dict().items())
    round_trip(model, tmp_path, make_vec_env(DotEnv, n_envs=N_ENVS, seed=0), dot_image, view)
    with pytest.raises(ValueError, match="^student_obs: got shape \\(2, 1, 36, 36\\)"):
        model.predict_student(view.transpose(0, 3, 1, 2))  # the wrong layout is refused, not mis-read


def test_cnn_teacher_student_obs_fn_sees_the_env_layout(tmp_path):
    env = make_vec_env(lambda: DotEnv(image_obs=True), n_envs=N_ENVS, seed=0)
    model = SITT("CnnPolicy", env, student_obs_fn=red_channel, **SMALL)
    assert isinstance(model.env, VecTransposeImage)  # SB3 transposed the teacher's images ...
    assert model.student_observation_space.shape == (36, 36, 1)  # ... the contract hands the env's layout over
    assert isinstance(model.nets.proxy[0], NatureCNN) and model.nets.proxy[0].cnn[0].in_channels == 3
    model.learn(2 * N_STEPS * N_ENVS)  # red_channel asserts the layout on every call
    view = red_channel(env.reset())
    round_trip(model, tmp_path, make_vec_env(lambda: DotEnv(image_obs=True), n_envs=N_ENVS, seed=0), red_channel, view)


def test_extractor_and_arch_overrides():
    model = SITT(
        "MlpPolicy", make_vec_env(DotEnv, n_envs=N_ENVS, seed=0), student_obs_fn=dot_image,
        student_features_extractor_kwargs={"features_dim": 32}, student_net_arch=[16, 64], **SMALL,
    )
    enc = model.nets.student
    assert enc[0].features_dim == 32 and [m.out_features for m in enc if isinstance(m, th.nn.Linear)] == [16, 64]
    with pytest.raises(ValueError, match="^student_net_arch"):
        SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=positions, student_net_arch=[16, 8], **SMALL)


# ---------------------------------------------------------------- the contract's errors


@pytest.mark.parametrize("fn,message", [
    (lambda o: o[:1], "student_obs_fn: returned 1 rows for a batch of 2"),
    (lambda o: o[:, : len(o)], "student_obs_fn: returned rows of shape \\(3,\\), earlier \\(2,\\)"),
    (lambda o: o.T, "student_obs_fn: returned 4 rows"),
])
def test_student_obs_fn_violations_raise_at_construction(fn, message):
    with pytest.raises(ValueError, match=message):
        SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=fn, **SMALL)


def test_predict_student_checks_its_input_shape():
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=positions, **SMALL)
    with pytest.raises(ValueError, match="^student_obs: got shape \\(2, 4\\); allowed: .* \\(2,\\)"):
        model.predict_student(model.env.reset())  # the teacher's observation instead of the student's


def test_tensorboard_runs_are_named_sitt(tmp_path):
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=positions, tensorboard_log=str(tmp_path), **SMALL)
    model.learn(N_STEPS * N_ENVS)
    assert [p.name for p in tmp_path.iterdir()] == ["SITT_1"]


def test_image_student_seeded_run_is_bit_identical():
    runs = []
    for _ in range(2):
        model = SITT("MlpPolicy", make_vec_env(DotEnv, n_envs=N_ENVS, seed=0), student_obs_fn=dot_image, **SMALL)
        model.learn(2 * N_STEPS * N_ENVS)
        runs.append({**params(model.policy), **{f"nets.{k}": v for k, v in params(model.nets).items()}})
    assert_same(runs[0], runs[1])


def test_student_policy_of_an_image_view_saves_and_loads(tmp_path):
    teacher = SITT("MlpPolicy", make_vec_env(DotEnv, n_envs=N_ENVS, seed=0), reward_term=False, update_term="off",
                   align=False, **SMALL).policy
    space = spaces.Box(0, 255, (36, 36, 1), np.uint8)
    student = StudentPolicy(teacher, observation_space=space, seed=3)
    assert isinstance(student.encoder[0], NatureCNN)
    student.save(tmp_path / "s.pt")
    loaded = StudentPolicy.load(tmp_path / "s.pt", teacher)
    view = dot_image(np.random.default_rng(0).random((5, 4)).astype(np.float32))
    th.testing.assert_close(loaded.logits(view), student.logits(view), rtol=0, atol=0)
    assert_same(params(loaded), params(student))


# ---------------------------------------------------------------- the formats saved before the student classes merged


def test_old_bc_student_format_loads(tmp_path):
    """The BC/DAgger ``student.pt`` written before the merge: state_dict, student_obs_shape, net_arch, activation."""
    teacher = SITT("MlpPolicy", cartpole(N_ENVS), reward_term=False, update_term="off", align=False, **SMALL).policy
    old = StudentPolicy(teacher, net_arch=[32, 64], activation="tanh", seed=1)
    state = {k: v.detach().clone() for k, v in old.state_dict().items()}
    assert sorted(state) == ["encoder.0.bias", "encoder.0.weight", "encoder.2.bias", "encoder.2.weight", "head.bias",
                             "head.weight"]  # the old keys
    th.save({"state_dict": state, "student_obs_shape": [4], "net_arch": [32, 64], "activation": "tanh"},
            str(tmp_path / "student.pt"))
    loaded = StudentPolicy.load(tmp_path / "student.pt", teacher)
    obs = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    th.testing.assert_close(loaded.logits(obs), old.logits(obs), rtol=0, atol=0)


COMMITTED = "results/runs/main"


@pytest.mark.skipif(not __import__("os").path.exists(f"{COMMITTED}/bc/seed_1/student.pt"), reason="no committed runs")
def test_committed_maze_runs_load_and_act():
    """A committed SITT model (saved with ``student_obs_shape`` only) and a committed BC student load with this code."""
    from color_maze import ColorMazeEnv

    env = ColorMazeEnv(n_envs=4, seed=0)
    obs = env.reset()
    sitt = SITT.load(f"{COMMITTED}/sitt_release/seed_1/model.zip", device="cpu")
    assert sitt.student_observation_space.shape == (9,) and sitt.nets.student.copied_from_teacher
    assert sitt.predict_student(env.student_obs(obs))[0].shape == (4,)
    teacher = SITT.load(f"{COMMITTED}/bc/seed_1/model.zip", device="cpu")
    student = StudentPolicy.load(f"{COMMITTED}/bc/seed_1/student.pt", teacher.policy)
    assert student.predict(env.student_obs(obs))[0].shape == (4,)
