"""RFC 9457 problem details: every error the API returns."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ransdn.model.errors import ControllerError, FieldError

PROBLEM_TYPE_BASE = "https://ransdn.invalid/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, *, slug: str | None = None,
            errors: list[FieldError] | None = None, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.to_dict() for e in errors]
    body.update({k: v for k, v in extra.items() if v is not None})
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM_CONTENT_TYPE,
                        headers=headers)


def from_controller_error(e: ControllerError, instance: str) -> web.Response:
    return problem(e.status, e.title, e.detail, slug=e.type_slug, errors=e.errors,
                   instance=instance, **e.extra)


class ProblemException(Exception):
    """Raised by request parsing; the error middleware turns it into a response."""

    def __init__(self, status: int, title: str, detail: str, *, slug: str | None = None,
                 errors: list[FieldError] | None = None, headers: dict[str, str] | None = None
                 ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.errors = errors
        self.headers = headers

    def response(self, instance: str) -> web.Response:
        return problem(self.status, self.title, self.detail, slug=self.slug, errors=self.errors,
                       instance=instance, headers=self.headers)
