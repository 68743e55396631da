"""Encoders into the teacher's feature space, and the student side of SITT.

The teacher is SB3's actor-critic (``ActorCriticPolicy``): its features extractor and policy MLP map the privileged
observation to the feature space (``latent_pi``), its ``action_net`` (the *shared action head*) maps features to the
action distribution's parameters (logits for ``Discrete``, means for ``Box``).

An :class:`Encoder` maps any observation (flat vector, image or Dict) into that feature space the way SB3 does for its
own policies: SB3's preprocessing (``preprocess_obs``: float, images / 255, one-hot), a features extractor chosen like
SB3 chooses one (:func:`default_extractor`: flat ``Box`` -> flatten, image ``Box`` -> ``NatureCNN``, ``Dict`` ->
``CombinedExtractor``; an image smaller than ``NatureCNN`` takes, under 36 x 36, is flattened instead), then an MLP.
Channels-last images (what an env returns before SB3's ``VecTransposeImage``) are transposed inside the encoder, so an
encoder takes observations in the layout its space declares.

SITT adds, in that same feature space (:class:`StudentNetworks`):

* the **student encoder**: student observation -> features (:func:`student_encoder`; the one student of every method,
  see :class:`sitt.student.StudentPolicy`);
* the **proxy student encoder**: teacher observation -> features through the teacher's own preprocessing, trained to
  imitate the student so that the student's action distribution can be estimated at every roll-out step from
  privileged observations only (release: ``Linear-ReLU-Linear-Tanh`` with 64 units after flattening);
* a **student head** only when the head is not shared (``shared_head=False`` ablation).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any
from collections.abc import Sequence

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import (
    get_flattened_obs_dim,
    is_image_space,
    is_image_space_channels_first,
    preprocess_obs,
)
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, FlattenExtractor, NatureCNN
from torch import nn

from sitt.config import SITTConfig

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}


def activation_class(activation: str | type[nn.Module]) -> type[nn.Module]:
    """``"tanh"``/``"relu"``/``"elu"`` or an ``nn.Module`` class (SB3's ``activation_fn`` style) -> the class."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation: got {activation!r}; allowed: {', '.join(_ACTIVATIONS)} or an nn.Module class"
            )
        return _ACTIVATIONS[activation]
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation
    raise ValueError(f"activation: got {activation!r}; allowed: {', '.join(_ACTIVATIONS)} or an nn.Module class")


def mlp(in_dim: int, sizes: Sequence[int], activations: Sequence[str | type[nn.Module]]) -> nn.Sequential:
    """``Linear -> activation`` per entry of ``sizes``; input (N, in_dim) -> output (N, sizes[-1])."""
    layers: list[nn.Module] = []
    for size, act in zip(sizes, activations):
        layers += [nn.Linear(in_dim, int(size)), activation_class(act)()]
        in_dim = int(size)
    return nn.Sequential(*layers)


def teacher_latent(policy: ActorCriticPolicy, obs: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
    """The teacher's policy features ``latent_pi`` for a batch of observations: (N, *obs_shape) -> (N, latent_dim)."""
    if policy.share_features_extractor:
        features = policy.extract_features(obs)
    else:
        features = policy.extract_features(obs, policy.pi_features_extractor)
    return policy.mlp_extractor.forward_actor(features)


def teacher_net_arch(teacher: ActorCriticPolicy) -> tuple[list[int], type[nn.Module]]:
    """The hidden sizes of the teacher's policy MLP and its activation class (SB3's ``activation_fn``)."""
    sizes = [m.out_features for m in teacher.mlp_extractor.policy_net.modules() if isinstance(m, nn.Linear)]
    return sizes, teacher.activation_fn


# ---------------------------------------------------------------------------------------------- layout


def _channels_last_image(space: spaces.Space, normalize_images: bool) -> bool:
    return (
        isinstance(space, spaces.Box)
        and is_image_space(space, check_channels=False, normalized_image=not normalize_images)
        and not is_image_space_channels_first(space)
    )


def channels_first_space(space: spaces.Space, normalize_images: bool = True) -> tuple[spaces.Space, list[str] | bool]:
    """The space as SB3's ``VecTransposeImage`` would present it (channels-last images -> channels-first), and what
    to transpose: ``True``/``False`` for a ``Box``, the list of keys for a ``Dict``."""
    if isinstance(space, spaces.Dict):
        keys = [k for k, s in space.spaces.items() if _channels_last_image(s, normalize_images)]
        if not keys:
            return space, []
        new = copy.deepcopy(space)
        for k in keys:
            h, w, c = space[k].shape
            new.spaces[k] = spaces.Box(0, 255, (c, h, w), dtype=space[k].dtype)
        return new, keys
    if _channels_last_image(space, normalize_images):
        h, w, c = space.shape
        return spaces.Box(0, 255, (c, h, w), dtype=space.dtype), True
    return space, False


def transposed_by_sb3(env_space: spaces.Space, policy_space: spaces.Space) -> list[str] | bool:
    """What SB3's ``VecTransposeImage`` transposed between the env's space and the policy's: ``True``/``False`` for a
    ``Box``, the list of transposed keys for a ``Dict``."""
    if isinstance(env_space, spaces.Dict):
        return [k for k in env_space.spaces if env_space[k].shape != policy_space[k].shape]
    return env_space.shape != policy_space.shape


def untranspose(obs: Any, transposed: list[str] | bool) -> Any:
    """Undo SB3's ``VecTransposeImage`` on a numpy batch (N, C, H, W) -> (N, H, W, C) (per key for a Dict)."""
    if isinstance(obs, dict):
        return {k: (np.transpose(v, (0, 2, 3, 1)) if k in transposed else v) for k, v in obs.items()}
    return np.transpose(obs, (0, 2, 3, 1)) if transposed else obs


# ---------------------------------------------------------------------------------------------- encoders

# SB3's NatureCNN: three convolutions without padding, (kernel, stride) each; an image must leave at least one pixel
NATURE_CNN_CONVS = ((8, 4), (4, 2), (3, 1))


def nature_cnn_fits(space: spaces.Box) -> bool:
    """Whether SB3's ``NatureCNN`` takes images of this channels-first space (C, H, W): its convolutions (8 x 8 stride
    4, 4 x 4 stride 2, 3 x 3 stride 1, no padding) leave at least one pixel, i.e. H and W are at least 36."""
    size = np.asarray(space.shape[1:], dtype=np.int64)
    for kernel, stride in NATURE_CNN_CONVS:
        size = (size - kernel) // stride + 1
        if (size < 1).any():
            return False
    return True


class SmallImageCombinedExtractor(CombinedExtractor):
    """SB3's ``CombinedExtractor`` (a ``NatureCNN`` per image key, a flatten per other key, concatenated), except that
    an image key too small for ``NatureCNN`` (:func:`nature_cnn_fits`) is flattened like a vector key (after SB3's
    preprocessing, / 255) instead of failing. :func:`default_extractor` picks it only for a ``Dict`` with such a key,
    so every other ``Dict`` keeps SB3's own ``CombinedExtractor``. Same arguments as ``CombinedExtractor``."""

    def __init__(self, observation_space: spaces.Dict, cnn_output_dim: int = 256, normalized_image: bool = False):
        BaseFeaturesExtractor.__init__(self, observation_space, features_dim=1)
        extractors: dict[str, nn.Module] = {}
        total = 0
        for key, subspace in observation_space.spaces.items():
            if is_image_space(subspace, normalized_image=normalized_image) and nature_cnn_fits(subspace):
                extractors[key] = NatureCNN(subspace, features_dim=cnn_output_dim, normalized_image=normalized_image)
                total += cnn_output_dim
            else:
                extractors[key] = nn.Flatten()
                total += get_flattened_obs_dim(subspace)
        self.extractors = nn.ModuleDict(extractors)
        self._features_dim = total


def default_extractor(
    space: spaces.Space,
    features_extractor_class: type[BaseFeaturesExtractor] | None = None,
    features_extractor_kwargs: dict[str, Any] | None = None,
    normalize_images: bool = True,
    field: str = "features_extractor",
) -> BaseFeaturesExtractor:
    """The features extractor SB3 would choose for ``space`` (channels-first for images): ``NatureCNN`` for an image
    ``Box``, ``CombinedExtractor`` for a ``Dict``, ``FlattenExtractor`` otherwise; or ``features_extractor_class``.

    **Images too small for NatureCNN** (under 36 x 36, :func:`nature_cnn_fits`; e.g. a 7 x 7 egocentric grid view):
    flattened, then the encoder's MLP, with SB3's image preprocessing (/ 255) kept: a ``FlattenExtractor`` for an
    image ``Box``, a :class:`SmallImageCombinedExtractor` for a ``Dict`` holding one. This is what SB3's own
    ``MlpPolicy`` does with an image, the only default of SB3 that takes any image size. We chose it over refusing:
    SITT's defaults promise any SB3 env and any ``student_obs_fn`` view, a refusal would have every such user pass
    the same ``FlattenExtractor`` by hand, and the rule depends on the shape alone, so it is the same at construction
    and when a saved student or model is loaded (and no model built before could have used ``NatureCNN`` on such an
    image: it fails there). Images of 36 x 36 and more keep ``NatureCNN``. Override with ``features_extractor_class``
    (SITT: ``student_features_extractor_class`` and the proxy's ``proxy_features_extractor_class``; the teacher is
    SB3's own: ``"MlpPolicy"`` or ``policy_kwargs=dict(features_extractor_class=...)``). Keyword arguments meant for
    ``NatureCNN`` (``features_dim``) on an image that falls back to ``FlattenExtractor`` (which takes none) raise a
    ``ValueError`` naming ``<field>_kwargs`` rather than being dropped.

    :param field: the name of the argument pair in error messages (``student_features_extractor`` for SITT's student,
        ``proxy_features_extractor`` for its proxy).
    """
    kwargs = dict(features_extractor_kwargs or {})
    if features_extractor_class is None:
        if isinstance(space, spaces.Dict):
            small = [
                k for k, s in space.spaces.items()
                if is_image_space(s, normalized_image=not normalize_images) and not nature_cnn_fits(s)
            ]
            features_extractor_class = SmallImageCombinedExtractor if small else CombinedExtractor
        elif is_image_space(space, check_channels=False, normalized_image=not normalize_images):
            features_extractor_class = NatureCNN if nature_cnn_fits(space) else FlattenExtractor
            if features_extractor_class is FlattenExtractor and kwargs:
                raise ValueError(
                    f"{field}_kwargs: got {kwargs}, but the image {tuple(space.shape)} (channels first) is smaller "
                    f"than NatureCNN takes (36 x 36) and is flattened (FlattenExtractor, no arguments); allowed: no "
                    f"{field}_kwargs, or a {field}_class that takes this image, with its arguments"
                )
        else:
            features_extractor_class = FlattenExtractor
    if features_extractor_class in (NatureCNN, CombinedExtractor, SmallImageCombinedExtractor) and not normalize_images:
        kwargs.setdefault("normalized_image", True)
    return features_extractor_class(space, **kwargs)


class Encoder(nn.Sequential):
    """Observation -> features: SB3's preprocessing, a features extractor, an MLP (``Sequential`` of the two).

    :param observation_space: the space of the observations this encoder takes, in their layout (channels-last images
        are transposed before the extractor; the extractor is built on the channels-first space).
    :param features_extractor: an SB3 features extractor on the channels-first space. A parameter-free
        ``FlattenExtractor`` is not stored (the flattening is done in :meth:`forward`), so that a flat encoder's
        state-dict keys are those of its MLP alone (``0.weight``, ``2.weight``, ...: the release's format).
    :param layers: the MLP after the extractor (``Linear -> activation`` pairs; may be empty).
    :param normalize_images: SB3's flag: images are divided by 255 (``False``: they already are normalised).

    ``forward`` takes (N, *shape) tensors (or a dict of them); for a flat ``Box`` any leading batch axes are kept.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        features_extractor: BaseFeaturesExtractor | None,
        layers: nn.Sequential,
        normalize_images: bool = True,
    ):
        modules: OrderedDict[str, nn.Module] = OrderedDict()
        flat = features_extractor is None or type(features_extractor) is FlattenExtractor
        if not flat:
            modules["features_extractor"] = features_extractor
        for name, module in layers.named_children():
            modules[name] = module
        super().__init__(modules)
        self.observation_space = observation_space
        self.normalize_images = normalize_images
        self.flat = flat
        self.copied_from_teacher = False  # True for the release's student: a copy of the teacher's policy MLP
        _, self.transpose = channels_first_space(observation_space, normalize_images)

    def _prepare(self, obs: Any) -> Any:
        x = preprocess_obs(obs, self.observation_space, normalize_images=self.normalize_images)
        if isinstance(x, dict):
            return {k: (v.permute(0, 3, 1, 2) if k in self.transpose else v) for k, v in x.items()}
        if self.transpose:
            x = x.permute(0, 3, 1, 2)  # channels-last image -> the channels-first layout of the extractor's space
        if self.flat and len(self.observation_space.shape) != 1:  # flat encoder of an image or (N, ...) vector
            return x.flatten(x.dim() - len(self.observation_space.shape))
        return x

    def forward(self, obs: Any) -> th.Tensor:
        x = self._prepare(obs)
        for module in self:
            x = module(x)
        return x


def build_encoder(
    observation_space: spaces.Space,
    net_arch: Sequence[int],
    activation: str | type[nn.Module] = nn.Tanh,
    features_extractor_class: type[BaseFeaturesExtractor] | None = None,
    features_extractor_kwargs: dict[str, Any] | None = None,
    normalize_images: bool = True,
    activations: Sequence[str | type[nn.Module]] | None = None,
    extractor_field: str = "features_extractor",
) -> Encoder:
    """A fresh :class:`Encoder`: the SB3-chosen (or given) extractor for ``observation_space``
    (:func:`default_extractor`; ``extractor_field`` names its arguments in errors), then ``Linear -> activation``
    layers of ``net_arch`` (``activations``: one per layer, overriding ``activation``)."""
    cf_space, _ = channels_first_space(observation_space, normalize_images)
    extractor = default_extractor(
        cf_space, features_extractor_class, features_extractor_kwargs, normalize_images, field=extractor_field
    )
    if type(extractor) is FlattenExtractor:
        in_dim = get_flattened_obs_dim(cf_space)
    else:
        in_dim = extractor.features_dim
    acts = list(activations) if activations is not None else [activation] * len(net_arch)
    return Encoder(observation_space, extractor, mlp(in_dim, list(net_arch), acts), normalize_images)


def copied_teacher_encoder(teacher: ActorCriticPolicy) -> Encoder | None:
    """A deep copy of the teacher's policy MLP as an :class:`Encoder` on a flat view of the teacher's size (the
    release's student initialisation); ``None`` unless the teacher's actor extractor is a plain flatten."""
    extractor = teacher.features_extractor if teacher.share_features_extractor else teacher.pi_features_extractor
    if type(extractor) is not FlattenExtractor:
        return None
    space = spaces.Box(-np.inf, np.inf, (extractor.features_dim,), np.float32)
    encoder = Encoder(space, None, copy.deepcopy(teacher.mlp_extractor.policy_net))
    encoder.copied_from_teacher = True
    return encoder


def flat_dim(space: spaces.Space) -> int | None:
    """Size of a flat (non-image) ``Box`` observation, else ``None``."""
    if isinstance(space, spaces.Box) and not is_image_space(space, check_channels=False):
        return int(np.prod(space.shape))
    return None


def student_encoder(
    teacher: ActorCriticPolicy,
    student_space: spaces.Space,
    net_arch: Sequence[int] | None = None,
    activation: str | type[nn.Module] | None = None,
    features_extractor_class: type[BaseFeaturesExtractor] | None = None,
    features_extractor_kwargs: dict[str, Any] | None = None,
    copy_teacher: bool | None = None,
    normalize_images: bool | None = None,
    arch_field: str = "net_arch",
    extractor_field: str = "features_extractor",
) -> Encoder:
    """The student's encoder: student observation -> the teacher's feature space (``latent_dim_pi``).

    Default (``net_arch``, ``features_extractor_class`` and ``copy_teacher`` all ``None``): when the student's view is
    a flat vector of the size the teacher's flat policy MLP takes, a deep copy of that MLP (the release's student);
    otherwise a fresh encoder: SB3's extractor for the student's space (flatten, ``NatureCNN``, ``CombinedExtractor``;
    an image under 36 x 36 is flattened, see :func:`default_extractor`) then an MLP with the teacher's hidden sizes
    and activation (``[latent_dim]`` when the teacher's MLP is empty).

    :param net_arch: hidden sizes of a fresh MLP; the last must equal the teacher's feature size.
    :param activation: activation of a fresh MLP (default: the teacher's ``activation_fn``).
    :param copy_teacher: ``True``: require the copy; ``False``: always fresh; ``None``: copy when possible.
    :param normalize_images: SB3's flag for the student's images (default: the teacher's).
    :param arch_field: the name of the ``net_arch`` argument in error messages (``student_net_arch`` for SITT).
    :param extractor_field: the name of the extractor arguments in error messages (``student_features_extractor``).
    """
    latent_dim = teacher.mlp_extractor.latent_dim_pi
    teacher_sizes, teacher_act = teacher_net_arch(teacher)
    normalize_images = teacher.normalize_images if normalize_images is None else normalize_images
    fresh_requested = net_arch is not None or features_extractor_class is not None or copy_teacher is False
    if not fresh_requested:
        copied = copied_teacher_encoder(teacher)
        dim = flat_dim(student_space)
        if copied is not None and dim == copied.observation_space.shape[0]:
            copied.observation_space = student_space
            return copied
        if copy_teacher:
            raise ValueError(
                f"{arch_field}: a copied encoder takes the teacher's flat input "
                f"({None if copied is None else copied.observation_space.shape[0]} features), but the student "
                f"observation space is {student_space}; allowed: copy_teacher=None/False or a list of hidden sizes "
                f"ending in {latent_dim}"
            )
    if net_arch is None:
        net_arch = teacher_sizes or [latent_dim]
    net_arch = [int(h) for h in net_arch]
    if not net_arch or net_arch[-1] != latent_dim:
        raise ValueError(
            f"{arch_field}: got {net_arch}; allowed: None or a non-empty list of hidden sizes ending in the "
            f"teacher's feature size {latent_dim} (the action head is the teacher's)"
        )
    return build_encoder(
        student_space, net_arch, teacher_act if activation is None else activation,
        features_extractor_class, features_extractor_kwargs, normalize_images, extractor_field=extractor_field,
    )


class StudentNetworks(nn.Module):
    """Student encoder, proxy student encoder and optional student head, built next to a teacher policy.

    :param teacher: the teacher's SB3 ``ActorCriticPolicy`` (its policy MLP is copied for the default student when the
        sizes match, its ``action_net`` is the shared head, its preprocessing is the proxy's).
    :param config: the SITT configuration (architectures, ``shared_head``).
    :param student_space: the student's observation space (the layout ``student_obs_fn`` returns).
    :param student_features_extractor_class: SB3 features extractor class of the student (default: SB3's choice; an
        image under 36 x 36 is flattened, see :func:`default_extractor`).
    :param student_features_extractor_kwargs: its keyword arguments.
    :param proxy_features_extractor_class: features extractor of the proxy on the teacher observation (default: SB3's
        choice for the teacher's space: flatten, ``NatureCNN``, ``CombinedExtractor``; an image under 36 x 36 is
        flattened).
    :param proxy_features_extractor_kwargs: its keyword arguments.
    """

    def __init__(
        self,
        teacher: ActorCriticPolicy,
        config: SITTConfig,
        student_space: spaces.Space,
        student_features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        student_features_extractor_kwargs: dict[str, Any] | None = None,
        proxy_features_extractor_class: type[BaseFeaturesExtractor] | None = None,
        proxy_features_extractor_kwargs: dict[str, Any] | None = None,
    ):
        super().__init__()
        latent_dim = teacher.mlp_extractor.latent_dim_pi
        activation = nn.Tanh if config.student_net_arch is not None else None  # the release's fresh student: tanh
        self.student = student_encoder(
            teacher, student_space, config.student_net_arch, activation,
            student_features_extractor_class, student_features_extractor_kwargs, arch_field="student_net_arch",
            extractor_field="student_features_extractor",
        )
        proxy_arch = list(config.proxy_net_arch)
        if proxy_arch == list(SITTConfig().proxy_net_arch) and latent_dim != proxy_arch[-1]:
            proxy_arch[-1] = latent_dim  # the release's [64, 64] on a teacher whose feature size D is not 64: [64, D]
        if proxy_arch[-1] != latent_dim:
            raise ValueError(
                f"proxy_net_arch: last size {config.proxy_net_arch[-1]} must equal the teacher's feature size "
                f"{latent_dim} (the action head is shared)"
            )
        self.proxy = build_encoder(
            teacher.observation_space, proxy_arch,
            features_extractor_class=proxy_features_extractor_class,
            features_extractor_kwargs=proxy_features_extractor_kwargs,
            normalize_images=teacher.normalize_images, activations=list(config.proxy_activations),
            extractor_field="proxy_features_extractor",
        )
        self.student_head = None if config.shared_head else copy.deepcopy(teacher.action_net)
