"""Quirks: presets, overrides, validation."""

from __future__ import annotations

import dataclasses

import pytest

from color_maze import Quirks, resolve_quirks
from color_maze.quirks import QUIRK_NAMES

SPEC_QUIRKS = (
    "last_cell_two_step",  # 1
    "terminal_obs_after_reset",  # 2
    "any_termination_success",  # 3
    "float64_obs",  # 4
    "render_bgr",  # 5
    "episode_length_minus_one",  # 6
)


def test_one_switch_per_spec_quirk():
    assert QUIRK_NAMES == SPEC_QUIRKS
    assert Quirks.names() == SPEC_QUIRKS


def test_presets():
    release, fixed = Quirks.release(), Quirks.fixed()
    assert all(release.as_dict().values()) and release.is_release and not release.is_fixed
    assert not any(fixed.as_dict().values()) and fixed.is_fixed and not fixed.is_release
    assert Quirks() == release
    assert resolve_quirks("release") == release and resolve_quirks("fixed") == fixed
    assert resolve_quirks(fixed) is fixed


def test_dict_overrides_apply_on_top_of_release():
    q = resolve_quirks({"float64_obs": False})
    assert q.float64_obs is False
    assert all(v for k, v in q.as_dict().items() if k != "float64_obs")
    assert release_with(render_bgr=False) == resolve_quirks({"render_bgr": False})
    assert Quirks.release().replace(episode_length_minus_one=False).episode_length_minus_one is False
    assert resolve_quirks({}) == Quirks.release()


def release_with(**changes):
    return dataclasses.replace(Quirks.release(), **changes)


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quirks.release().float64_obs = False  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad", ["Release", "", "paper", {"float64": True}, {"float64_obs": "yes"}, {"float64_obs": 1}, None, 3, ["release"]]
)
def test_invalid_quirks_raise_naming_the_argument_and_the_allowed_names(bad):
    with pytest.raises(ValueError, match="quirks") as err:
        resolve_quirks(bad)
    assert "float64_obs" in str(err.value) and "last_cell_two_step" in str(err.value)


def test_invalid_field_value_in_constructor():
    with pytest.raises(ValueError, match="quirks"):
        Quirks(float64_obs="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="last_cell_two_step"):
        Quirks.release().replace(bogus=True)
