"""The student: one policy class that SITT, BC, DAgger, HLRL, DWBC and COSIL all train and deploy.

A :class:`StudentPolicy` acts on the *student* observation and mirrors the teacher's actor
(:mod:`sitt.networks`):

* **encoder** (:class:`sitt.networks.Encoder`): student observation -> the teacher's feature space. Flat vector, image
  or Dict views are encoded the way SB3 encodes them (flatten / ``NatureCNN`` / ``CombinedExtractor``, SB3's image
  preprocessing, channels-last images transposed inside; an image too small for ``NatureCNN``, under 36 x 36, is
  flattened: :func:`sitt.networks.default_extractor`), then an MLP; by default a deep copy of the teacher's flat
  policy MLP when the student's flat view has the teacher's size (the release's student), else fresh networks with
  the teacher's hidden sizes (:func:`sitt.networks.student_encoder`);
* **head**: features -> logits (``Discrete``) or means (``Box``). ``head="copy"``: a deep copy of the teacher's
  ``action_net``, owned and trained (BC, DAgger, HLRL, COSIL); ``head="shared"``: the teacher's ``action_net`` itself
  (SITT and DWBC: one shared decoder; it is not registered in this module, so its owner trains and saves it);
* for ``Box`` actions a state-independent ``log_std``: ``"frozen"`` (a buffer copy of the teacher's: BC/DAgger),
  ``"shared"`` (the teacher's parameter: SITT, DWBC) or ``"trainable"`` (a parameter of its own: the PPO-trained
  students of HLRL and COSIL).

It carries ``action_dist``, ``action_space`` and ``log_std`` like an SB3 policy, so the helpers of
:mod:`sitt.distributions` accept it in place of one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.distributions import DiagGaussianDistribution, Distribution, make_proba_distribution
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from sitt.distributions import actions_from_output, check_supported, distribution_from_output
from sitt.networks import Encoder, student_encoder

StudentObsFn = Callable[[np.ndarray], np.ndarray]
HEADS = ("copy", "shared")
LOG_STDS = ("frozen", "shared", "trainable")


# ---------------------------------------------------------------------------------------------- student view


def space_of_batch(batch: Any) -> spaces.Space:
    """The student observation space of a batch ``student_obs_fn`` returned (N, *shape), numpy or a dict of them.

    ``uint8`` arrays of 3 dims per row are images (``Box(0, 255)``, SB3's image convention, either layout); any other
    array is a ``Box(-inf, inf)`` of its dtype (float32 for non-float dtypes, as the networks see them).
    """
    if isinstance(batch, dict):
        return spaces.Dict({k: space_of_batch(v) for k, v in batch.items()})
    batch = np.asarray(batch)
    shape = batch.shape[1:]
    if batch.dtype == np.uint8 and len(shape) == 3:
        return spaces.Box(0, 255, shape, dtype=np.uint8)
    dtype = batch.dtype if np.issubdtype(batch.dtype, np.floating) else np.float32
    return spaces.Box(-np.inf, np.inf, shape, dtype=dtype)


def probe_batch(space: spaces.Space, n: int) -> Any:
    """``n`` identical valid observations of ``space`` (zeros clipped into the bounds; per key for a Dict)."""
    if isinstance(space, spaces.Dict):
        return {k: probe_batch(s, n) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Box):
        one = np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype)
    elif isinstance(space, spaces.Discrete):
        one = np.asarray(space.start, dtype=space.dtype)
    else:
        one = np.zeros(space.shape, dtype=space.dtype)
    return np.repeat(one[None], n, axis=0)


def batch_shapes(batch: Any) -> Any:
    """Per-row shapes of a batch: a tuple, or a dict of tuples."""
    if isinstance(batch, dict):
        return {k: tuple(np.shape(v)[1:]) for k, v in batch.items()}
    return tuple(np.shape(batch)[1:])


def space_shapes(space: spaces.Space) -> Any:
    """Per-row shapes of a space: a tuple, or a dict of tuples (as :func:`batch_shapes` of its batches)."""
    if isinstance(space, spaces.Dict):
        return {k: tuple(s.shape) for k, s in space.spaces.items()}
    return tuple(space.shape)


def batch_len(batch: Any) -> int:
    if isinstance(batch, dict):
        lens = {len(v) for v in batch.values()}
        return lens.pop() if len(lens) == 1 else -1
    return len(batch)


def check_student_view(student_obs_fn: StudentObsFn, teacher_obs: Any, expected: Any = None) -> Any:
    """``student_obs_fn(teacher_obs)`` as numpy, checked: one row per input row, and (when ``expected`` is given) the
    per-row shapes of the student space. Raises ``ValueError`` naming ``student_obs_fn`` otherwise."""
    view = student_obs_fn(teacher_obs)
    view = {k: np.asarray(v) for k, v in view.items()} if isinstance(view, dict) else np.asarray(view)
    n = batch_len(teacher_obs)
    if batch_len(view) != n:
        raise ValueError(
            f"student_obs_fn: returned {batch_len(view)} rows for a batch of {n} teacher observations; allowed: a "
            f"function mapping a batch (N, ...) to a batch of N student observations (the batch axis first)"
        )
    if expected is not None and batch_shapes(view) != expected:
        raise ValueError(
            f"student_obs_fn: returned rows of shape {batch_shapes(view)}, earlier {expected}; allowed: one fixed "
            f"student observation shape"
        )
    return view


def probe_student_space(student_obs_fn: StudentObsFn, teacher_space: spaces.Space) -> spaces.Space:
    """Call ``student_obs_fn`` on probe batches of 2 and 3 teacher observations; check that it keeps the batch axis
    and a fixed row shape; return the student observation space (:func:`space_of_batch`)."""
    two = check_student_view(student_obs_fn, probe_batch(teacher_space, 2))
    check_student_view(student_obs_fn, probe_batch(teacher_space, 3), expected=batch_shapes(two))
    return space_of_batch(two)


def obs_to_tensor(obs: Any, device: th.device) -> Any:
    """numpy / torch batch (or dict of them) -> float32 torch on ``device`` (SB3's preprocessing does the rest:
    images / 255, one-hot)."""
    if isinstance(obs, dict):
        return {k: obs_to_tensor(v, device) for k, v in obs.items()}
    t = obs if th.is_tensor(obs) else th.as_tensor(np.asarray(obs))
    if t.dtype != th.float32:
        t = t.float()
    return t.to(device)


# ---------------------------------------------------------------------------------------------- the policy


class StudentPolicy(nn.Module):
    """A student acting on student observations, built next to a teacher policy (see the module docstring).

    :param teacher_policy: the teacher's SB3 ``ActorCriticPolicy`` (e.g. ``model.policy``): its feature size, head and
        (Box) log-std define the student's; copies are read from it at construction, it is never modified here.
    :param student_obs_shape: shape of one flat student observation; shorthand for
        ``observation_space=Box(-inf, inf, student_obs_shape)``. ``None`` and no ``observation_space``: the teacher's
        observation space.
    :param net_arch: hidden sizes of a fresh encoder MLP, ending in the teacher's feature size; ``None``: see
        :func:`sitt.networks.student_encoder` (a copy of the teacher's MLP when sizes match, else its sizes).
    :param activation: activation of a fresh MLP: ``"tanh"``, ``"relu"``, ``"elu"`` or an ``nn.Module`` class;
        ``None`` = the teacher's ``activation_fn`` (SB3's default: tanh).
    :param seed: seeds a fresh encoder's (and head's) initialisation in a forked torch RNG (the global one is
        untouched); ``None`` = the global torch RNG.
    :param device: where the student lives; ``None`` = the teacher's device.
    :param observation_space: the student's observation space, in the layout ``student_obs_fn`` returns (flat
        ``Box``, image ``Box`` in either layout, or ``Dict``).
    :param features_extractor_class: SB3 features extractor of the student (default: SB3's choice for the space; an
        image under 36 x 36 is flattened, see :func:`sitt.networks.default_extractor`).
    :param features_extractor_kwargs: its keyword arguments (e.g. ``{"features_dim": 256}`` for ``NatureCNN``).
    :param copy_teacher: ``None`` = copy the teacher's MLP when possible, ``True`` = require it, ``False`` = a fresh
        encoder and a freshly initialised head (SB3's orthogonal init, gain 0.01), as for a student trained by RL.
    :param head: ``"copy"`` (an owned copy of the teacher's ``action_net``), ``"shared"`` (the teacher's own) or a
        module to use unregistered (SITT's ``shared_head=False`` ablation passes its ``nets.student_head``).
    :param log_std: for Box actions: ``"frozen"``, ``"shared"`` or ``"trainable"`` (see the module docstring);
        ``"trainable"`` starts at the teacher's value (or at SB3's ``log_std_init`` 0 with ``copy_teacher=False``).
    :param encoder: a ready :class:`sitt.networks.Encoder` to use (SITT passes its ``nets.student``).
    """

    def __init__(
        self,
        teacher_policy: ActorCriticPolicy,
        student_obs_shape: Sequence[int] | None = None,
        net_arch: Sequence[int] | None = None,
        activation: str | type[nn.Module] | None = None,
        seed: int | None = None,
        device: th.device | str | None = None,
        *,
        observation_space: spaces.Space | None = None,
        features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        features_extractor_kwargs: dict[str, Any] | None = None,
        copy_teacher: bool | None = None,
        head: str | nn.Module = "copy",
        log_std: str = "frozen",
        encoder: Encoder | None = None,
    ):
        super().__init__()
        check_supported(teacher_policy, teacher_policy.action_space)
        if not isinstance(head, nn.Module) and head not in HEADS:
            raise ValueError(f"head: got {head!r}; allowed: {', '.join(HEADS)} or an nn.Module")
        if log_std not in LOG_STDS:
            raise ValueError(f"log_std: got {log_std!r}; allowed: {', '.join(LOG_STDS)}")
        self.action_space = teacher_policy.action_space
        # a fresh distribution of the teacher's family (the teacher's own object may hold its last batch's tensors)
        self.action_dist = make_proba_distribution(self.action_space)
        if observation_space is None:
            observation_space = (
                teacher_policy.observation_space if student_obs_shape is None
                else spaces.Box(-np.inf, np.inf, tuple(int(s) for s in student_obs_shape), np.float32)
            )
        self.observation_space = observation_space
        self.net_arch = None if net_arch is None else [int(h) for h in net_arch]
        self.activation = activation
        self.features_extractor_class = features_extractor_class
        self.features_extractor_kwargs = features_extractor_kwargs
        self.copy_teacher = copy_teacher
        self.head_mode = head if isinstance(head, str) else "given"
        self.log_std_mode = log_std
        with th.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                th.manual_seed(seed)
            self.encoder = encoder if encoder is not None else student_encoder(
                teacher_policy, observation_space, self.net_arch, activation, features_extractor_class,
                features_extractor_kwargs, copy_teacher,
            )
            if head == "copy":
                self.head = copy.deepcopy(teacher_policy.action_net)
                if copy_teacher is False:
                    nn.init.orthogonal_(self.head.weight, gain=0.01)  # SB3's init of a fresh action_net
                    nn.init.zeros_(self.head.bias)
            else:  # the teacher's (or a given) module: not registered here, its owner trains and saves it
                object.__setattr__(self, "head", teacher_policy.action_net if head == "shared" else head)
        if encoder is None:
            self.encoder.requires_grad_(True)  # trainable even when the teacher was frozen (deep copies keep the flag)
        if head == "copy":
            self.head.requires_grad_(True)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            if log_std == "shared":
                object.__setattr__(self, "_shared_log_std", teacher_policy)
            elif log_std == "frozen":
                self.register_buffer("log_std", teacher_policy.log_std.detach().clone())  # (action_dim,)
            else:
                init = th.zeros_like(teacher_policy.log_std) if copy_teacher is False else teacher_policy.log_std
                self.log_std = nn.Parameter(init.detach().clone())
        else:
            self.log_std = None
        self.to(device if device is not None else teacher_policy.device)

    def __getattr__(self, name: str) -> Any:
        if name == "log_std" and "_shared_log_std" in self.__dict__:
            return self.__dict__["_shared_log_std"].log_std  # the teacher's parameter, live
        return super().__getattr__(name)

    @property
    def device(self) -> th.device:
        return next(iter(self.encoder.parameters()), next(self.head.parameters())).device

    # ------------------------------------------------------------------ forward

    def obs_tensor(self, student_obs: Any) -> Any:
        """A batch of student observations (N, *shape) (numpy or torch, or a dict) -> tensors on the device, after
        checking the shape (:meth:`check_obs`)."""
        self.check_obs(student_obs, batched=True)
        return obs_to_tensor(student_obs, self.device)

    def check_obs(self, student_obs: Any, batched: bool | None = None) -> bool:
        """Whether ``student_obs`` is a batch (``True``) or one observation (``False``) of the student's space; a
        ``ValueError`` naming the expected shape otherwise (e.g. an image in the other channel layout)."""
        space = self.observation_space
        if isinstance(space, spaces.Dict):
            if not isinstance(student_obs, dict) or set(student_obs) != set(space.spaces):
                raise ValueError(
                    f"student_obs: got {type(student_obs).__name__}; allowed: a dict with keys {sorted(space.spaces)}"
                )
            single = [np.shape(student_obs[k]) == space[k].shape for k in space.spaces]
            batch = [tuple(np.shape(student_obs[k])[1:]) == space[k].shape for k in space.spaces]
            got = {k: tuple(np.shape(v)) for k, v in student_obs.items()}
            want = {k: s.shape for k, s in space.spaces.items()}
        else:
            shape = tuple(np.shape(student_obs))
            single, batch = [shape == space.shape], [shape[1:] == space.shape and len(shape) == len(space.shape) + 1]
            got, want = shape, space.shape
        if batched is not True and all(single):
            return False
        if batched is not False and all(batch):
            return True
        raise ValueError(
            f"student_obs: got shape {got}; allowed: one student observation of shape {want} or a batch (N, *{want}) "
            f"(the layout student_obs_fn returns, e.g. channels-last images stay channels-last)"
        )

    def features(self, student_obs: Any) -> th.Tensor:
        """Encoder features (N, D) in the teacher's feature space; with grad."""
        return self.encoder(self.obs_tensor(student_obs))

    def logits(self, student_obs: Any) -> th.Tensor:
        """Head outputs (N, K) for a batch: logits (Discrete) or means (Box); with grad."""
        return self.head(self.features(student_obs))

    forward = logits

    def distribution(self, student_obs: Any) -> Distribution:
        """SB3's action distribution of the student for a batch of student observations."""
        return distribution_from_output(self, self.logits(student_obs))

    # ------------------------------------------------------------------ acting

    def predict(
        self, student_obs: Any, deterministic: bool = True, generator: th.Generator | None = None
    ) -> tuple[np.ndarray, None]:
        """Actions for student observations, like SB3's ``predict``: numpy in, ``(actions, None)`` out.

        :param student_obs: one observation of the student's space or a batch (N, *shape); other shapes raise a
            ``ValueError``.
        :param deterministic: argmax (Discrete) / the mean (Box); otherwise a sample (Box: mean + std * noise).
        :param generator: CPU torch generator for the sample (``None`` = the global torch RNG).
        :return: actions (N,) int64 for Discrete, (N, action_dim) float32 clipped to the bounds for Box; without the
            batch axis for a single observation.
        """
        batched = self.check_obs(student_obs)
        if isinstance(student_obs, dict):
            batch = student_obs if batched else {k: np.asarray(v)[None] for k, v in student_obs.items()}
        else:
            batch = np.asarray(student_obs) if batched else np.asarray(student_obs)[None]
        with th.no_grad():
            actions = self.actions_from_logits(self.logits(batch), deterministic, generator)
        return (actions if batched else actions[0]), None

    def actions_from_logits(
        self, out: th.Tensor, deterministic: bool, generator: th.Generator | None = None
    ) -> np.ndarray:
        """Numpy actions (N,) / (N, action_dim) from head outputs (N, K), clipped to a Box's bounds."""
        return actions_from_head(self, self.action_space, out, deterministic, generator)

    def act_fn(
        self, student_obs_fn: StudentObsFn | None = None, deterministic: bool = True
    ) -> Callable[[np.ndarray], np.ndarray]:
        """A function ``obs batch (N, ...) -> actions (N, ...)`` (numpy) for evaluation loops.

        :param student_obs_fn: when given, the function takes *teacher* observations and applies this map first
            (e.g. ``color_maze.evaluate.evaluate(student.act_fn(env.student_obs), env)``); ``None``: it takes student
            observations directly.
        :param deterministic: as in :meth:`predict`.
        """

        def act(obs: np.ndarray) -> np.ndarray:
            view = obs if student_obs_fn is None else student_obs_fn(obs)
            return self.predict(view, deterministic=deterministic)[0]

        return act

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | Path) -> None:
        """Write the weights (encoder, head, log-std, a shared head included) and the construction arguments to
        ``path`` (``torch.save`` of a plain dict; the space and extractor class are pickled)."""
        state = {f"encoder.{k}": v for k, v in self.encoder.state_dict().items()}
        state.update({f"head.{k}": v for k, v in self.head.state_dict().items()})
        if self.log_std is not None:
            state["log_std"] = self.log_std
        space = self.observation_space
        th.save(
            {
                "format": 2,
                "state_dict": {k: v.detach().cpu() for k, v in state.items()},
                "student_obs_shape": list(space.shape) if isinstance(space, spaces.Box) else None,
                "net_arch": self.net_arch,
                "activation": self.activation if isinstance(self.activation, (str, type(None))) else None,
                "observation_space": space,
                "features_extractor_class": self.features_extractor_class,
                "features_extractor_kwargs": self.features_extractor_kwargs,
                "copy_teacher": self.copy_teacher,
                "encoder_is_copy": bool(getattr(self.encoder, "copied_from_teacher", False)),
            },
            str(path),
        )

    @classmethod
    def load(
        cls, path: str | Path, teacher_policy: ActorCriticPolicy, device: th.device | str | None = None
    ) -> StudentPolicy:
        """Rebuild a saved student: the architecture from ``teacher_policy`` (the same kind of teacher it was built
        from) and the saved arguments, all weights (encoder, head, log_std) from the file. Reads both this format and
        the BC/DAgger format before the student classes were merged (``state_dict``, ``student_obs_shape``,
        ``net_arch``, ``activation`` only). The loaded student owns its head and a frozen log-std."""
        saved: dict[str, Any] = th.load(str(path), map_location="cpu", weights_only=saved_format(path) < 2)
        kwargs: dict[str, Any] = dict(net_arch=saved["net_arch"], activation=saved["activation"], device=device)
        if saved_format(path) >= 2:
            kwargs.update(
                observation_space=saved["observation_space"],
                features_extractor_class=saved["features_extractor_class"],
                features_extractor_kwargs=saved["features_extractor_kwargs"],
                copy_teacher=True if saved["encoder_is_copy"] else (False if saved["copy_teacher"] is False else None),
            )
            if saved["net_arch"] is None and not saved["encoder_is_copy"]:
                kwargs["copy_teacher"] = False
        else:
            kwargs["student_obs_shape"] = saved["student_obs_shape"]
        student = cls(teacher_policy, **kwargs)
        student.load_state_dict(saved["state_dict"])
        return student


def saved_format(path: str | Path) -> int:
    """1: the BC/DAgger ``student.pt`` written before the merge (tensors and plain values only); 2: this format."""
    try:
        saved = th.load(str(path), map_location="cpu", weights_only=True)
    except Exception:  # pickled spaces/classes: not loadable with weights_only
        return 2
    return int(saved.get("format", 1))


def actions_from_head(
    policy: Any, action_space: spaces.Space, out: th.Tensor, deterministic: bool, generator: th.Generator | None = None
) -> np.ndarray:
    """Numpy actions from head outputs (N, K) of ``policy`` (an SB3 policy or a :class:`StudentPolicy`).

    Discrete: argmax or a categorical sample -> (N,) int64. Box: the mean or mean + exp(log_std) * noise, clipped to
    the space's bounds -> (N, action_dim) float32. ``generator`` (a CPU ``torch.Generator``) seeds the sample
    (``None``: global torch RNG).
    """
    out = out.detach()
    if deterministic or generator is None:
        actions = actions_from_output(policy, out, deterministic)
    elif isinstance(action_space, spaces.Discrete):
        probs = th.softmax(out.cpu(), -1)  # sampled on the CPU, where ``generator`` lives
        actions = th.multinomial(probs, 1, generator=generator)[:, 0]
    else:
        noise = th.randn(out.shape, generator=generator, dtype=out.dtype)
        actions = out.cpu() + noise * th.exp(policy.log_std.detach().cpu())
    actions = actions.detach().cpu().numpy()
    if isinstance(action_space, spaces.Box):
        return np.clip(actions, action_space.low, action_space.high).astype(np.float32)
    return actions.astype(np.int64)
