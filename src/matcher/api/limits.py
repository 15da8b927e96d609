"""Refuse request bodies over the size limit with 413, whether or not the client announces the length."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route's body read; the app's handler answers 413.
                    raise HTTPException(413, self._message())
            return msg

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"the request body is over the {self.max_bytes / (1024 * 1024):g} MB limit (MATCHER_MAX_UPLOAD_MB)"

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": "too_large", "message": self._message(), "problems": []}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
