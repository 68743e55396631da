"""Images too small for SB3's NatureCNN (under 36 x 36, e.g. a 7 x 7 egocentric grid view) get the documented default
(sitt.networks.default_extractor): flattened after SB3's image preprocessing (/ 255), then the MLP, for the student,
the proxy and a Dict's small image keys; 36 x 36 and more keep NatureCNN; kwargs meant for NatureCNN on a flattened
image raise a ValueError naming the argument at construction (issue 27, item 6)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, NatureCNN

from sitt import SITT
from sitt.networks import Encoder, SmallImageCombinedExtractor, default_extractor, nature_cnn_fits
from sitt.student import StudentPolicy
from tests.sitt_helpers import cartpole

N_ENVS, N_STEPS = 2, 16
SMALL = dict(n_steps=N_STEPS, batch_size=N_STEPS * N_ENVS, n_epochs=1, align_epochs=2, seed=0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def grid_view(obs: np.ndarray, size: int = 7) -> np.ndarray:
    """CartPole state (N, 4) -> (N, size, size, 3) uint8, channels-last: the cart on the bottom row (red), the pole's
    lean on the top row (green); a small egocentric-style image."""
    n, mid = len(obs), size // 2
    img = np.zeros((n, size, size, 3), np.uint8)
    cart = np.clip(np.rint(mid + obs[:, 0] * mid / 2.4), 0, size - 1).astype(int)
    lean = np.clip(np.rint(mid + obs[:, 2] * mid / 0.21), 0, size - 1).astype(int)
    img[np.arange(n), size - 1, cart, 0] = 255
    img[np.arange(n), 0, lean, 1] = 255
    return img


class TinyGridEnv(gym.Env):
    """A 7 x 7 RGB grid (channels-last uint8) as the env's own observation: a dot walks to the right edge."""

    def __init__(self):
        self.observation_space = spaces.Box(0, 255, (7, 7, 3), np.uint8)
        self.action_space = spaces.Discrete(2)

    def _obs(self):
        img = np.zeros((7, 7, 3), np.uint8)
        img[3, self.x, 0] = 255
        return img

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.t = 3, 0
        return self._obs(), {}

    def step(self, action):
        self.x = int(np.clip(self.x + (1 if action else -1), 0, 6))
        self.t += 1
        return self._obs(), float(self.x == 6), self.x == 6, self.t >= 20, {}


def params(module) -> dict[str, th.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_nature_cnn_fits_agrees_with_nature_cnn_itself():
    shapes = [(3, 36, 36), (1, 36, 36), (3, 35, 36), (3, 36, 35), (1, 40, 100), (3, 7, 7), (4, 8, 200), (1, 84, 84)]
    for shape in shapes:
        space = spaces.Box(0, 255, shape, np.uint8)
        try:
            NatureCNN(space)
            builds = True
        except RuntimeError:  # torch: kernel larger than the input
            builds = False
        assert nature_cnn_fits(space) == builds, shape
    assert nature_cnn_fits(spaces.Box(0, 255, (3, 36, 36), np.uint8))
    assert not nature_cnn_fits(spaces.Box(0, 255, (3, 35, 35), np.uint8))


def test_a_7x7_student_view_trains_with_the_defaults_flattened_after_preprocessing(tmp_path):
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=grid_view, **SMALL)  # no extractor passed
    assert model.student_observation_space == spaces.Box(0, 255, (7, 7, 3), np.uint8)
    encoder = model.nets.student
    assert isinstance(encoder, Encoder) and encoder.flat
    assert not any(isinstance(m, NatureCNN) for m in encoder.modules())
    linears = [m for m in encoder if isinstance(m, th.nn.Linear)]
    assert [m.in_features for m in linears] == [7 * 7 * 3, 64]  # then the teacher's hidden sizes
    view = grid_view(model.env.reset())
    with th.no_grad():  # SB3's image preprocessing (/ 255), channels-first as SB3 lays images out, then flattened
        x = (th.as_tensor(view).float().permute(0, 3, 1, 2) / 255.0).flatten(1)
        for layer in encoder:
            x = layer(x)
    th.testing.assert_close(encoder(th.as_tensor(view).float()), x)

    before = params(model.nets.student)
    model.learn(2 * N_STEPS * N_ENVS)
    assert all(not th.equal(before[k], v) for k, v in model.nets.student.state_dict().items())
    actions, _ = model.predict_student(view)
    assert actions.shape == (N_ENVS,)

    model.save(tmp_path / "model.zip")
    loaded = SITT.load(tmp_path / "model.zip", env=cartpole(N_ENVS), student_obs_fn=grid_view)
    th.testing.assert_close(loaded.student_logits(view), model.student_logits(view), rtol=0, atol=0)
    model.student.save(tmp_path / "student.pt")
    alone = StudentPolicy.load(tmp_path / "student.pt", model.policy)
    th.testing.assert_close(alone.logits(view), model.student_logits(view), rtol=0, atol=0)


def test_a_36x36_view_still_gets_nature_cnn_and_35x35_is_flattened():
    big = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=lambda o: grid_view(o, 36), **SMALL)
    assert isinstance(big.nets.student[0], NatureCNN) and big.nets.student[0].cnn[0].in_channels == 3
    small = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=lambda o: grid_view(o, 35), **SMALL)
    assert small.nets.student.flat and isinstance(small.nets.student[0], th.nn.Linear)
    assert small.nets.student[0].in_features == 35 * 35 * 3


def test_a_small_image_teacher_gets_a_flattened_proxy():
    env = make_vec_env(TinyGridEnv, n_envs=N_ENVS, seed=0)
    # SB3's MlpPolicy flattens the teacher's 7 x 7 image; the proxy (default extractor) follows suit
    model = SITT("MlpPolicy", env, student_obs_fn=lambda o: o[..., :1], **SMALL)
    assert model.nets.proxy.flat and model.nets.proxy[0].in_features == 7 * 7 * 3
    assert model.nets.student.flat and model.nets.student[0].in_features == 7 * 7
    before = params(model.nets)
    model.learn(2 * N_STEPS * N_ENVS)
    assert all(not th.equal(before[k], v) for k, v in model.nets.state_dict().items())


def test_dict_views_flatten_only_their_small_image_keys():
    def view(o):
        return {"grid": grid_view(o), "pos": o[:, [0, 2]].astype(np.float32)}

    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=view, **SMALL)
    extractor = model.nets.student[0]
    assert type(extractor) is SmallImageCombinedExtractor and isinstance(extractor.extractors["grid"], th.nn.Flatten)
    assert extractor.features_dim == 7 * 7 * 3 + 2
    model.learn(N_STEPS * N_ENVS)
    assert model.predict_student(view(model.env.reset()))[0].shape == (N_ENVS,)
    # a Dict whose images all fit keeps SB3's own CombinedExtractor
    big = spaces.Dict({"img": spaces.Box(0, 255, (3, 36, 36), np.uint8), "v": spaces.Box(-1, 1, (2,), np.float32)})
    assert type(default_extractor(big)) is CombinedExtractor


def test_nature_cnn_kwargs_on_a_flattened_image_raise_at_construction():
    with pytest.raises(ValueError, match=r"^student_features_extractor_kwargs: got \{'features_dim': 128\}, but the "
                                         r"image \(3, 7, 7\) .* smaller than NatureCNN takes \(36 x 36\)"):
        SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=grid_view,
             student_features_extractor_kwargs={"features_dim": 128}, **SMALL)
    env = make_vec_env(TinyGridEnv, n_envs=N_ENVS, seed=0)
    with pytest.raises(ValueError, match=r"^proxy_features_extractor_kwargs: got"):
        SITT("MlpPolicy", env, student_obs_fn=lambda o: o[..., :1], proxy_features_extractor_kwargs={"features_dim": 8},
             **SMALL)


class TinyCNN(BaseFeaturesExtractor):
    """A 3 x 3 convolution for small channels-first images."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 32):
        super().__init__(observation_space, features_dim)
        c, h, w = observation_space.shape
        self.net = th.nn.Sequential(th.nn.Conv2d(c, 8, 3), th.nn.ReLU(), th.nn.Flatten(),
                                    th.nn.Linear(8 * (h - 2) * (w - 2), features_dim), th.nn.ReLU())

    def forward(self, x):
        return self.net(x)


def test_an_extractor_passed_for_a_small_image_is_used():
    model = SITT("MlpPolicy", cartpole(N_ENVS), student_obs_fn=grid_view, student_features_extractor_class=TinyCNN,
                 student_features_extractor_kwargs={"features_dim": 16}, **SMALL)
    assert isinstance(model.nets.student[0], TinyCNN) and model.nets.student[0].features_dim == 16
    model.learn(N_STEPS * N_ENVS)
