"""The controller's REST API for in-guest scenarios: the CLI's client
(standard library only, so cheap to import in the guest) in a worker
thread."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ransdn.cli.client import ApiClient, Response


@dataclass
class Rest:
    base: str

    async def call(self, method: str, path: str, body: Any = None, **headers: str) -> Response:
        client = ApiClient(self.base)
        hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
        content_type = hdrs.pop("Content-Type", "application/json")
        return await asyncio.to_thread(client.request, method, path, body, hdrs, content_type)

    async def get(self, path: str) -> Any:
        return (await self.call("GET", path)).body

    async def patch_slice(self, slice_id: str, patch: dict) -> Response:
        """JSON Merge Patch with the If-Match the API requires."""
        current = await self.call("GET", f"/api/v1/slices/{slice_id}")
        return await self.call("PATCH", f"/api/v1/slices/{slice_id}", patch,
                               If_Match=current.headers["ETag"],
                               Content_Type="application/merge-patch+json")
