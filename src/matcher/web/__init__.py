"""The web page for principals and state analysts: plain HTML, CSS and JavaScript modules shipped inside the
package (no build step, nothing fetched from the internet), served at / by the API's own app. The page calls the
/v1 API with the key it is given, so it has exactly the key's rights."""

from __future__ import annotations

import base64
import hashlib
import os
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ..networks.pages import CSS as NETWORK_CSS
from ..report.handouts import CSS_HASH

# A school network's printable page has a style block of its own (constant too), shown the same way.
NETWORK_CSS_HASH = f"'sha256-{base64.b64encode(hashlib.sha256(NETWORK_CSS.encode('utf-8')).digest()).decode()}'"

STATIC = Path(__file__).parent / "static"

# Only our own files: no scripts, styles, fonts or images from elsewhere (the page must work offline, and injected
# markup could not load anything even if some slipped through); no framing, no referrer with ids in the hash. The
# inline styles allowed, by their hashes, are a pair handout's and a school network's page: the page shows them from
# blob: addresses, which inherit this policy.
HEADERS = {
    "Content-Security-Policy": f"default-src 'self'; script-src 'self'; "
                               f"style-src 'self' {CSS_HASH} {NETWORK_CSS_HASH}; img-src 'self' blob:; "
                               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate (ETag) so an upgraded server's page is used at once
}


class _Static(StaticFiles):
    def file_response(self, full_path: PathLike[str] | str, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update({k: v for k, v in HEADERS.items() if k != "Content-Security-Policy"})
        return response


def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=HEADERS)


def mount_web(app: FastAPI) -> None:
    """The page at / and its files under /web/ (not in the OpenAPI schema: they are not part of the API)."""
    app.add_api_route("/", index, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/web", _Static(directory=STATIC), name="web")
