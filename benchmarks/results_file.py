"""benchmarks/RESULTS.md holds one section per benchmark script, between that script's start and end markers."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(start: str, end: str, text: str) -> None:
    """Replace the section between start and end (text includes both markers), or append it; the rest of the
    file stays as it is."""
    old = RESULTS.read_text() if RESULTS.exists() else ""
    if start in old and end in old:
        head, rest = old.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    RESULTS.write_text(new)
    print(f"\nwrote {RESULTS.relative_to(RESULTS.parent.parent)}")
