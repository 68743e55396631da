"""Process-level runtime settings, in one place.

:func:`configure_threads` is the single place where the project sets how many CPU threads torch (and the BLAS / OpenMP
libraries under numpy) may use. Experiments run one torch thread per process and get their parallelism from running
several processes (:mod:`study.sweep`); every entry point that trains calls this helper.
"""

from __future__ import annotations

import os

import torch

_THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def configure_threads(n: int = 1) -> int:
    """Let torch use ``n`` intra-op threads (and one inter-op thread when ``n == 1``); return ``n``.

    Also exports ``OMP_NUM_THREADS`` and friends as ``n`` so that child processes started afterwards (and libraries
    initialised afterwards in this process) follow. Safe to call repeatedly: torch only allows setting the inter-op
    pool size before its first parallel work, so a refusal there is ignored (the intra-op setting still applies).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n: got {n!r}; allowed: an integer >= 1")
    for name in _THREAD_ENV_VARS:
        os.environ[name] = str(n)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    try:
        if n == 1 and torch.get_num_interop_threads() != 1:
            torch.set_num_interop_threads(1)
    except RuntimeError:  # the inter-op pool is already running: only settable once, before any parallel work
        pass
    return n


def torch_threads() -> dict[str, int]:
    """The current torch thread settings: ``{"intra_op": ..., "inter_op": ...}`` (for provenance records)."""
    return {"intra_op": int(torch.get_num_threads()), "inter_op": int(torch.get_num_interop_threads())}
