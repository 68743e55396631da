"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest
import torch as th


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny networks on a shared 2-core machine: one torch thread is several times faster. A module asks for it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``; the thread count is restored after the module."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)
