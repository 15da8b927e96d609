"""Publish a folder of outputs all at once: write into a hidden sibling, then swap it into place."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the call is unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _publish_entry(src: Path, dst: Path) -> None:
    if src.is_dir() and dst.is_dir():
        if _exchange(src, dst):
            shutil.rmtree(src)  # src now holds the old folder
            return
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.rename(dst, old)
        os.rename(src, dst)
        shutil.rmtree(old, ignore_errors=True)
    elif dst.is_dir():
        shutil.rmtree(dst)
        os.replace(src, dst)
    else:
        os.replace(src, dst)


@contextmanager
def staged_directory(target: str | Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit its entries replace target's (target is created if missing).

    Nothing of target changes if the body raises. Other files already in target are left alone.
    """
    target = Path(target)
    parent = target.resolve().parent
    if not parent.exists():
        raise FileNotFoundError(f"the parent folder of {target} does not exist")
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder")
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=parent))
    try:
        yield stage
        os.chmod(stage, 0o755)
        if not target.exists():
            os.rename(stage, target)
            return
        for entry in sorted(stage.iterdir()):
            _publish_entry(entry, target / entry.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def replaced_atomically(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write; on normal exit it replaces path all at once (rename),
    keeping path's mode; on an error it is removed and path is untouched."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.resolve().parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace path's content all at once (temp file in the same folder, then rename), keeping its mode."""
    with replaced_atomically(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(text)
