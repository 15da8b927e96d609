"""A school's key: the name of its files (schools/<key>.html, in the CLI's folder and in reports.zip alike) and of
its place in the API's URLs (/v1/pairings/{run}/schools/{key}/...).

An id made of capital letters, digits and "_", "-", "." (not first) is its own key: "S0001" stays "S0001". Any
other id gets a readable prefix and a 60-bit digest of the exact id: "Lincoln Elem/North" becomes
"Lincoln-Elem-North~3kq0...". So keys
- depend on the id alone (the same in every run, on every machine);
- never collide, even on a case-insensitive file system (Windows, macOS) or when unzipped: plain keys hold no
  small letters and no "~", and two other keys agree only if their digests do;
- are always a valid file name and URL path segment: no "/", no "..", no Windows device name, at most 53
  characters beyond a plain id's 100.
"""

from __future__ import annotations

import base64
import hashlib
import re

_PLAIN = re.compile(r"[A-Z0-9][A-Z0-9_.-]{0,99}")
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                              *(f"LPT{i}" for i in range(10))})
_READABLE = 40


def file_key(school_id: str) -> str:
    if _PLAIN.fullmatch(school_id) and school_id.split(".")[0] not in _WINDOWS_DEVICES:
        return school_id
    digest = base64.b32encode(hashlib.sha256(school_id.encode("utf-8")).digest()).decode("ascii").lower()[:12]
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", school_id).strip("-")[:_READABLE].rstrip("-")
    return f"{readable}~{digest}"


def is_key_form(ref: str) -> bool:
    """Whether ref can only be a non-plain id's key (it has the "~"); other refs are ids, or plain ids' keys,
    which are the ids themselves."""
    return "~" in ref
