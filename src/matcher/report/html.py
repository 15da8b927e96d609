"""What every generated page shares: the document around its body (self-contained: one inline style block, no
scripts, nothing fetched), the base typography of the printable pages (handouts, network pages), and "a, b and c"."""

from __future__ import annotations

from collections.abc import Sequence

# Typography of a printable page: a readable column on screen, @page margins and smaller type on paper, sections
# kept whole. Constant (nothing from the input), so a page's style block stays hashable for a CSP.
PRINT_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2733;line-height:1.4;margin:2rem auto;
max-width:44rem;padding:0 1rem;overflow-wrap:anywhere}
header{border-bottom:2px solid #2f6f8f;margin-bottom:.8rem;padding-bottom:.5rem}
.kicker{color:#2f6f8f;font-weight:600;font-size:.85rem;letter-spacing:.02em;margin:0}
h1{font-size:1.6rem;margin:.15rem 0 .3rem}
h2{font-size:1.05rem;margin:1rem 0 .3rem;color:#1f4f66}
p{margin:.3rem 0}ul,ol{margin:.3rem 0;padding-left:1.3rem}li{margin:.2rem 0}
.lede{color:#3a4856}
footer{margin-top:1rem;color:#566;font-size:.8rem;border-top:1px solid #e1e7ee;padding-top:.4rem}
@page{margin:12mm 14mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:9.5pt;line-height:1.3}h1{font-size:16pt}
h2{font-size:11pt;margin:.7rem 0 .2rem}header{break-after:avoid}section{break-inside:avoid}}
"""


def document(title: str, css: str, body: str) -> str:
    """A whole page: `title` and `body` are HTML (the caller escapes what came from the input), `css` its only
    style."""
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{title}</title><style>{css}</style></head><body>{body}</body></html>\n")


def and_list(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
