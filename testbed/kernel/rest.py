"""A small client of the controller's REST API for in-guest scenarios.

urllib in a worker thread: the guest pays for every imported module, and
this needs none beyond the standard library.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class Rest:
    base: str

    def _call(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", headers.pop("Content-Type", "application/json"))
        for k, v in headers.items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                text = resp.read()
                return Reply(resp.status, json.loads(text) if text else None, dict(resp.headers))
        except urllib.error.HTTPError as err:
            text = err.read()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text.decode("utf-8", "replace")
            raise ApiError(err.code, payload) from None

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Reply:
        return await asyncio.to_thread(self._call, method, path, body,
                                       {k.replace("_", "-"): v for k, v in headers.items()})

    async def get(self, path: str) -> Any:
        return (await self.call("GET", path)).body

    async def patch_slice(self, slice_id: str, patch: dict) -> Reply:
        """JSON Merge Patch with the If-Match the API requires."""
        current = await self.call("GET", f"/api/v1/slices/{slice_id}")
        return await self.call("PATCH", f"/api/v1/slices/{slice_id}", patch,
                               If_Match=current.headers["ETag"],
                               Content_Type="application/merge-patch+json")
