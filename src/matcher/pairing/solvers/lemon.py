"""Exact maximum-weight matching with LEMON's MaxWeightedMatching (C++), an optional faster blossom.

The shim lemon_matching.cpp is compiled by scripts/ensure-lemon.sh (`make lemon`, run by `make install`) into
lemon_matching.so next to this file, or wherever MATCHER_LEMON_LIB points. Without it `available()` is False and
callers keep rustworkx's blossom; nothing is loaded until first asked.
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path

import numpy as np

from ...errors import MatcherError
from . import blossom

ABI = 3  # lemon_matching_abi() of the shim this module speaks to
MAX_WEIGHT = 2**56  # the shim's bound on |w| (LEMON's int64 duals are 4w, plus headroom); beyond it, rustworkx
LIBRARY = Path(__file__).with_name("lemon_matching.so")
INSTALL_HINT = "run `make lemon` (scripts/ensure-lemon.sh: apt-get install liblemon-dev, then g++ builds the shim)"

_ERRORS = {
    -1: "an edge endpoint is outside 0..n-1",
    -2: f"a weight is beyond +-2^56 ({MAX_WEIGHT:,}), where LEMON's int64 duals could overflow",
    -3: "n or the edge count is negative or too large for LEMON (its ids are C ints)",
    -4: "LEMON ran out of memory",
    -5: "LEMON raised a C++ exception",
}
_I64 = np.ctypeslib.ndpointer(dtype=np.int64, flags="C_CONTIGUOUS")


def library_path() -> Path:
    return Path(os.environ["MATCHER_LEMON_LIB"]) if os.environ.get("MATCHER_LEMON_LIB") else LIBRARY


@functools.cache
def _load() -> tuple[ctypes.CDLL | None, str]:
    """The loaded shim, or None and why not."""
    path = library_path()
    if not path.exists():
        return None, f"{path} is not built; {INSTALL_HINT}"
    try:
        lib = ctypes.CDLL(str(path))
        abi = lib.lemon_matching_abi()
        functions = (lib.lemon_max_weight_matching, lib.lemon_fractional_duals)  # or AttributeError
    except (OSError, AttributeError) as exc:
        return None, f"{path} did not load ({exc}); {INSTALL_HINT}"
    if abi != ABI:
        return None, f"{path} speaks ABI {abi}, this module {ABI}; rebuild it: {INSTALL_HINT}"
    for fn in functions:
        fn.restype = ctypes.c_int64
        fn.argtypes = [ctypes.c_int64, ctypes.c_int64, _I64, _I64, _I64, _I64]
    return lib, ""


def available() -> bool:
    """Whether the compiled shim is there and loads (never raises)."""
    return _load()[0] is not None


def unavailable_reason() -> str:
    """Why `available()` is False ('' when it is True)."""
    return _load()[1]


def solve(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Indices of the chosen edges of a maximum-weight matching (integer weights, exact), like blossom.solve.

    Weights beyond +-MAX_WEIGHT, which LEMON's int64 arithmetic might overflow, go to blossom.solve instead.
    """
    lib, why = _load()
    if lib is None:
        raise MatcherError(f"solver 'lemon' (LEMON's MaxWeightedMatching) is not available: {why}")
    # Copies only when the caller's arrays are not already contiguous int64; the shim never writes to them.
    uu, vv, ww = (np.ascontiguousarray(a, dtype=np.int64) for a in (u, v, w))
    if not (len(uu) == len(vv) == len(ww)):
        raise ValueError(f"edge arrays differ in length: {len(uu)}, {len(vv)}, {len(ww)}")
    if len(ww) and (int(ww.max()) > MAX_WEIGHT or int(ww.min()) < -MAX_WEIGHT):
        return blossom.solve(n, u, v, w)
    chosen = np.empty(max(min(len(uu), n // 2), 1), dtype=np.int64)
    k = lib.lemon_max_weight_matching(n, len(uu), uu, vv, ww, chosen)
    if k < 0:
        raise MatcherError(f"LEMON matching failed: {_ERRORS.get(k, f'error {k}')}")
    return chosen[:k].copy()


def fractional_duals(n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """4 x an optimal dual of the fractional matching LP on these edges (int64 node potentials), from LEMON's
    MaxWeightedFractionalMatching. Unchecked: the caller verifies pot >= 0 and pot[u] + pot[v] >= 4 w itself."""
    lib, why = _load()
    if lib is None:
        raise MatcherError(f"LEMON's fractional matching is not available: {why}")
    uu, vv, ww = (np.ascontiguousarray(a, dtype=np.int64) for a in (u, v, w))
    if len(ww) and int(np.abs(ww).max()) > MAX_WEIGHT:
        raise MatcherError("LEMON's fractional matching: a weight is beyond +-2^56")
    pot = np.zeros(max(n, 1), dtype=np.int64)
    k = lib.lemon_fractional_duals(n, len(uu), uu, vv, ww, pot)
    if k < 0:
        raise MatcherError(f"LEMON fractional matching failed: {_ERRORS.get(k, f'error {k}')}")
    return pot[:n].copy()
