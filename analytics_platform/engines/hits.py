"""HITS by power iteration, one implementation for both engines (numpy on CPU, cupy on GPU).

Why not cuGraph's ``hits`` (RAPIDS 26.10, ``cpp/src/link_analysis/hits_impl.cuh``): it stops when
the L1 change of the hubs is below ``n * tol`` (a tolerance that grows with the graph: at 1M
addresses and ``tol = 1e-6`` it is 1.0, so it stops after a couple of iterations), it raises
"HITS failed to converge" after ``max_iter`` (the window would get no features at all), and its
authorities come from the hubs of the previous iteration. igraph's ``hub_score`` solves an
eigenproblem instead and returns a different vector when the leading eigenvalue is tied. The
loop below is a handful of vectorised gathers and scatter-adds (``bincount``) that numpy and
cupy both provide, so the engines run the same algorithm with the same stopping rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HitsResult:
    hubs: Any
    """Hub scores (sum 1), an array of the module the inputs came from."""
    authorities: Any
    """Authority scores (sum 1) computed from the final hubs: ``A^T hubs``, normalised."""
    iterations: int
    converged: bool


def hits(src: Any, dst: Any, n: int, max_iter: int, tol: float, xp: ModuleType = np) -> HitsResult:
    """Unweighted HITS on the edges ``src -> dst`` over vertices ``0..n-1``, from uniform hubs.

    Each iteration: authorities from the hubs, hubs from the authorities, both scaled to a
    maximum of 1 (no overflow or underflow). It stops when the hub scores as stored (summing to
    1) moved less than ``tol`` in total (L1) during the iteration: a tolerance on the result,
    whatever ``n`` and however the scores spread. Without convergence after
    ``max_iter`` iterations it returns the last iterate with ``converged=False`` and logs a
    warning: the scores still rank addresses, and failing the day's features would be worse.
    """
    if n == 0:
        empty = xp.zeros(0, dtype=xp.float64)
        return HitsResult(empty, empty, 0, True)
    hubs = xp.full(n, 1.0, dtype=xp.float64)
    iterations, converged = 0, False
    while iterations < max_iter:
        auth = _scaled(xp.bincount(dst, weights=hubs[src], minlength=n))
        new_hubs = _scaled(xp.bincount(src, weights=auth[dst], minlength=n))
        diff = float(xp.abs(_summed(new_hubs) - _summed(hubs)).sum())
        hubs = new_hubs
        iterations += 1
        if diff < tol:
            converged = True
            break
    if not converged:
        log.warning(
            "hits: no convergence after %d iterations on %d vertices (tolerance %g); "
            "keeping the last iterate",
            iterations,
            n,
            tol,
        )
    auth = xp.bincount(dst, weights=hubs[src], minlength=n)
    return HitsResult(_summed(hubs), _summed(auth), iterations, converged)


def _scaled(x: Any) -> Any:
    top = float(x.max())
    return x / top if top > 0 else x


def _summed(x: Any) -> Any:
    total = float(x.sum())
    return x / total if total > 0 else x
