"""A small synchronous client of the controller's REST API for the CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """The controller answered with an error (problem details)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.status = status
        self.problem = problem


class ConnectionFailed(Exception):
    """The controller could not be reached."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any = field(default=None)


class ApiClient:
    def __init__(self, url: str, token: str | None = None, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None,
                content_type: str = "application/json") -> Response:
        data = None
        hdrs = {"Accept": "application/json, application/problem+json"}
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = content_type
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return Response(resp.status, dict(resp.headers), _decode(raw))
        except urllib.error.HTTPError as e:
            raw = e.read()
            problem = _decode(raw)
            if not isinstance(problem, dict):
                problem = {"title": e.reason, "detail": raw.decode(errors="replace")[:500]}
            raise ApiError(e.code, problem) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ConnectionFailed(f"cannot reach the controller at {self.url}: {reason}") from None

    def get(self, path: str) -> Any:
        return self.request("GET", path).body


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
