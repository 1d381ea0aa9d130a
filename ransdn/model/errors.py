"""Errors the service layer raises; the API maps each to a problem type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One reason a request was refused, located in the request document.

    ``field`` is a JSON Pointer into the request body (``/wifi/ssid``), or a
    parameter name for query/header problems.
    """

    field: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class ControllerError(Exception):
    """Base of the errors the service layer reports to its callers."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}


class InvalidRequest(ControllerError):
    status = 422
    title = "Invalid request"
    type_slug = "invalid-request"


class AdmissionRejected(ControllerError):
    """The request is well-formed but conflicts with the network as it is."""

    status = 409
    title = "Admission control rejected the request"
    type_slug = "admission-rejected"


class NotFound(ControllerError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class AlreadyExists(ControllerError):
    status = 409
    title = "Already exists"
    type_slug = "already-exists"


class PreconditionFailed(ControllerError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class PreconditionRequired(ControllerError):
    status = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class InUse(ControllerError):
    status = 409
    title = "Resource in use"
    type_slug = "in-use"


class ProvisioningFailed(ControllerError):
    """A NETCONF transaction was refused or could not run; nothing changed."""

    status = 502
    title = "Provisioning failed; no node was changed"
    type_slug = "provisioning-failed"


class NodeUnavailable(ProvisioningFailed):
    """A node the change needs is not connected; nothing was sent anywhere.

    409: the request conflicts with the current state of a node resource
    (see its ``connection``); retrying once it is connected can succeed."""

    status = 409
    title = "A node the change needs is unavailable; nothing was changed"
    type_slug = "node-unavailable"


@dataclass
class ErrorCollector:
    """Gathers field errors so a request reports all its problems at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, pointer: str, reason: str) -> None:
        self.errors.append(FieldError(pointer, reason))

    def raise_if_any(self, detail: str = "The request has invalid fields.") -> None:
        if self.errors:
            raise InvalidRequest(detail, errors=list(self.errors))
