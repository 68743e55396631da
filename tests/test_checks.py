"""sitt.checks: the project's value checks and their one error format ("<field>: got <value>; allowed: <what>")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sitt.checks import check_int, check_number, fail, is_int, is_number, validate_seed


def test_is_int_takes_python_and_numpy_integers_but_not_bools():
    for x in (0, -3, 10**20, np.int8(1), np.int64(7), np.uint32(2)):
        assert is_int(x), x
    for x in (True, False, np.bool_(True), 1.0, np.float64(2.0), "1", None, [1]):
        assert not is_int(x), x


def test_is_number_takes_finite_reals_only():
    for x in (0, -1.5, 3, np.float32(0.5), np.int64(4), 1e300):
        assert is_number(x), x
    for x in (True, np.bool_(False), math.nan, np.nan, math.inf, -np.inf, "1", None, 1j):
        assert not is_number(x), x


def test_fail_raises_the_project_message():
    with pytest.raises(ValueError) as e:
        fail("env.n_envs", "many", "an integer >= 1")
    assert str(e.value) == "env.n_envs: got 'many'; allowed: an integer >= 1"


def test_check_int():
    check_int("n", 1, 1)
    check_int("n", np.int64(5), 1)
    for bad in (0, True, 1.0, None):
        with pytest.raises(ValueError) as e:
            check_int("eval.n_worlds", bad, 1)
        assert str(e.value) == f"eval.n_worlds: got {bad!r}; allowed: an integer >= 1"


def test_check_number():
    check_number("x", 0.0, 0.0)
    check_number("x", np.float32(0.5), 0.0, 1.0)
    check_number("x", 1, 0.0, 1.0)
    with pytest.raises(ValueError) as e:
        check_number("ppo.lr", 0.0, 0.0, lo_open=True)
    assert str(e.value) == "ppo.lr: got 0.0; allowed: a finite number > 0.0"
    with pytest.raises(ValueError) as e:
        check_number("share", 1.5, 0.0, 1.0)
    assert str(e.value) == "share: got 1.5; allowed: a finite number >= 0.0 and <= 1.0"
    for bad in (math.nan, math.inf, True, "0.5"):
        with pytest.raises(ValueError, match=r"^share: got .*; allowed: a finite number >= 0"):
            check_number("share", bad, 0.0, 1.0)


def test_validate_seed():
    assert validate_seed(None) is None
    assert validate_seed(3) == 3 and type(validate_seed(np.int64(3))) is int
    gen = np.random.default_rng(0)
    seq = np.random.SeedSequence(1)
    assert validate_seed(gen) is gen and validate_seed(seq) is seq  # passed through, not copied
    for bad in (-1, True, 1.5, "0", np.bool_(False)):
        with pytest.raises(ValueError) as e:
            validate_seed(bad)
        assert str(e.value) == (f"seed: got {bad!r}; allowed: None, an int >= 0, a numpy SeedSequence or a numpy "
                                "Generator")
    with pytest.raises(ValueError, match=r"^maze_seed: got -2; allowed: "):
        validate_seed(-2, "maze_seed")
