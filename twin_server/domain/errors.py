"""Domain errors: one root, mapped to HTTP in one place (``twin_server.errors``).

::

    DomainError              root; ``code`` is the machine-readable error name
     ├── NotAuthenticated    no valid credentials                      -> 401
     ├── PermissionDenied    authenticated, but the role may not       -> 403
     ├── NotFound            no such thing *visible to the caller*     -> 404
     ├── Conflict            clashes with the current state            -> 409
     ├── InvalidInput        well-formed request, unacceptable values  -> 422
     ├── UnsupportedFile     not a file type we take                   -> 415
     ├── TooLarge            over the configured size                  -> 413
     ├── RateLimited         too many attempts, try later              -> 429
     ├── NotSatisfiable      the requested byte range is outside      -> 416
     └── Unavailable         a service we depend on is down           -> 503
"""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "NotSatisfiable",
    "PermissionDenied",
    "RateLimited",
    "TooLarge",
    "Unavailable",
    "UnsupportedFile",
]


class DomainError(Exception):
    """Root of the server's expected errors; ``detail`` is a sentence for the user."""

    code = "error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotAuthenticated(DomainError):
    """Missing, expired or forged credentials."""

    code = "not_authenticated"


class PermissionDenied(DomainError):
    """The caller's role does not allow this action."""

    code = "permission_denied"


class NotFound(DomainError):
    """The thing does not exist, or lies outside the caller's part of the organisation."""

    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a forbidden transition)."""

    code = "conflict"


class InvalidInput(DomainError):
    """The request is well formed but its values are not acceptable."""

    code = "invalid_input"


class UnsupportedFile(DomainError):
    """The uploaded file is not of a type this endpoint takes."""

    code = "unsupported_file"


class TooLarge(DomainError):
    """The upload exceeds the configured limit."""

    code = "too_large"


class RateLimited(DomainError):
    """Too many attempts; ``retry_after_s`` says when to try again."""

    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class NotSatisfiable(DomainError):
    """A byte range outside the resource; ``size`` is the resource's length in bytes."""

    code = "range_not_satisfiable"

    def __init__(self, detail: str, *, size: int) -> None:
        super().__init__(detail)
        self.size = size


class Unavailable(DomainError):
    """A service the request needs (the job queue, the database) cannot be reached."""

    code = "unavailable"
