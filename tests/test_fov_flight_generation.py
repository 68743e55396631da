"""fov_flight.generation: pillars inside the corridor, a passage in every world (checked by an independent
grid search), blocked worlds rejected, seeded determinism, the fingerprint, and errors."""

from __future__ import annotations

import dataclasses
import math
from collections import deque

import numpy as np
import pytest

from fov_flight import FlightConfig, Worlds, generate_worlds, worlds_sha256
from fov_flight.generation import _draw, check_worlds

CFG = FlightConfig()


def passage_exists(centres, radii, start, config: FlightConfig, h: float = 0.1) -> bool:
    """Plain BFS on a fine grid: is there an 8-connected path of cells with clearance >= w/2 + h from
    the start's cell to x >= length? (An independent, slower check with a different grid.)"""
    xs = np.arange(h / 2, config.length + 2 * h, h)
    ys = np.arange(-config.width / 2 + h / 2, config.width / 2, h)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    clear = np.minimum(config.width / 2 - np.abs(Y), X)
    for (cx, cy), r in zip(centres, radii):
        clear = np.minimum(clear, np.hypot(X - cx, Y - cy) - r)
    free = clear >= config.min_passage_width / 2 + h
    si, sj = int(start[0] / h), int((start[1] + config.width / 2) / h)
    if not free[si, sj]:
        return False
    seen = np.zeros_like(free)
    seen[si, sj] = True
    queue = deque([(si, sj)])
    while queue:
        i, j = queue.popleft()
        if xs[i] >= config.length:
            return True
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                a, b = i + di, j + dj
                if 0 <= a < xs.size and 0 <= b < ys.size and free[a, b] and not seen[a, b]:
                    seen[a, b] = True
                    queue.append((a, b))
    return False


def test_shapes_ranges_and_pillars_inside_the_corridor():
    w = generate_worlds(300, CFG, seed=0)
    assert len(w) == 300 and w.n_pillars == 12
    assert w.centres.shape == (300, 12, 2) and w.radii.shape == (300, 12)
    assert w.start.shape == (300, 2) and w.start_yaw.shape == (300,)
    assert all(a.dtype == np.float64 for a in (w.centres, w.radii, w.start, w.start_yaw))
    x, y, r = w.centres[..., 0], w.centres[..., 1], w.radii
    assert (r >= 0.3).all() and (r <= 0.6).all()
    assert (x >= 3.0).all() and (x <= 24.0).all()
    assert (np.abs(y) + r <= 4.5).all()
    assert (w.start[:, 0] == 1.0).all() and (np.abs(w.start[:, 1]) <= 2.0).all()
    assert (np.abs(w.start_yaw) <= math.pi).all()
    assert np.abs(w.start_yaw).max() > 2.5  # headings are drawn all round
    assert check_worlds(w, CFG).all()


def test_every_generated_world_has_a_passage_by_an_independent_search():
    w = generate_worlds(15, CFG, seed=4)
    for i in range(15):
        assert passage_exists(w.centres[i], w.radii[i], w.start[i], CFG)


def test_blocked_worlds_are_rejected_and_open_ones_kept():
    P = CFG.n_pillars
    ys = np.linspace(-4.4, 4.4, P)  # a fence of 12 pillars across x = 12, gaps 0.8 - 2r
    start, yaw = np.array([[1.0, 0.0]]), np.array([0.0])

    def fence(r):
        c = np.stack([np.full(P, 12.0), ys], axis=1)[None]
        return Worlds(c, np.full((1, P), r), start, yaw)

    assert not check_worlds(fence(0.3), CFG)[0]  # gaps 0.2 m
    assert not passage_exists(fence(0.3).centres[0], fence(0.3).radii[0], start[0], CFG)
    open_world = fence(0.3)
    open_world.centres[0, 5:7, 0] = 20.0  # move two pillars away: a gap of about 2 m
    open_world.centres[0, 5:7, 1] = [-3.0, 3.0]
    assert check_worlds(open_world, CFG)[0]
    assert passage_exists(open_world.centres[0], open_world.radii[0], start[0], CFG)
    # a crowded config: raw draws fail often, generation still returns only passing worlds
    crowded = dataclasses.replace(CFG, n_pillars=30, k_nearest=30, min_passage_width=1.5)
    raw = _draw(np.random.default_rng(0), 200, crowded)
    assert (~check_worlds(raw, crowded)).mean() > 0.2
    assert check_worlds(generate_worlds(40, crowded, seed=0), crowded).all()


def test_seeded_determinism_and_fingerprint():
    a, b, c = generate_worlds(50, CFG, seed=7), generate_worlds(50, CFG, seed=7), generate_worlds(50, CFG, seed=8)
    for name in ("centres", "radii", "start", "start_yaw"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert not np.array_equal(getattr(a, name), getattr(c, name))
    assert worlds_sha256(a) == worlds_sha256(b) != worlds_sha256(c)
    assert len(worlds_sha256(a)) == 64
    state = np.random.get_state()[1].copy()
    generate_worlds(3, CFG, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # the global RNG is untouched
    # a generator or SeedSequence works too
    g = generate_worlds(5, CFG, seed=np.random.default_rng(3))
    assert worlds_sha256(g) == worlds_sha256(generate_worlds(5, CFG, seed=np.random.default_rng(3)))
    # the fingerprint sees a single changed bit and the subset copies
    d = a.subset(slice(0, 50))
    assert worlds_sha256(d) == worlds_sha256(a)
    d.radii[3, 4] = np.nextafter(d.radii[3, 4], 1.0)
    assert worlds_sha256(d) != worlds_sha256(a)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), r"^n: got 0; allowed: an int >= 1"),
    (dict(n=2.0), r"^n: got 2.0; allowed"),
    (dict(n=2, seed=-3), r"^seed: got -3; allowed"),
    (dict(n=2, seed=None), r"^seed: got None; allowed"),
    (dict(n=2, config=dataclasses.replace(CFG, n_pillars=0)), r"^env\.n_pillars: got 0"),
])
def test_generation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        generate_worlds(**kwargs)


def test_impossible_config_gives_up_with_a_clear_error(monkeypatch):
    import fov_flight.generation as gen

    monkeypatch.setattr(gen, "MAX_ROUNDS", 3)
    packed = dataclasses.replace(CFG, n_pillars=200, k_nearest=200, pillar_radius_min=0.5, min_passage_width=2.0)
    with pytest.raises(RuntimeError, match=r"too crowded"):
        generate_worlds(2, packed, seed=0)
