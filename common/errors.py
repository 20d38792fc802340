"""Domain errors. Each carries its HTTP status so one handler can render them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """A problem with one named input field, in words shown to the user (Swedish)."""

    field: str
    message: str


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(DomainError):
    """Input is malformed or breaks a rule; names every offending field."""

    status_code = 422
    code = "validation_failed"

    def __init__(
        self, errors: list[FieldError], detail: str = "Uppgifterna är inte giltiga."
    ) -> None:
        super().__init__(detail, errors=errors)

    @classmethod
    def one(cls, field_name: str, message: str) -> ValidationFailed:
        return cls([FieldError(field_name, message)])


class NotFound(DomainError):
    """Missing and out-of-scope look identical: the detail never says which."""

    status_code = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("Resursen finns inte.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class StaleVersion(DomainError):
    """The edit was based on a version that is no longer current."""

    status_code = 409
    code = "stale_version"

    def __init__(self) -> None:
        super().__init__(
            "Uppgifterna har ändrats av någon annan sedan du hämtade dem. Ladda om och försök igen."
        )


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, detail: str = "Du behöver logga in.") -> None:
        super().__init__(detail)


class Forbidden(DomainError):
    """The actor's role does not allow the operation at all (never used for row scope)."""

    status_code = 403
    code = "forbidden"

    def __init__(self, detail: str = "Din roll har inte behörighet till detta.") -> None:
        super().__init__(detail)


class Unavailable(DomainError):
    """A passing condition (the database is busy); the same request may succeed later."""

    status_code = 503
    code = "unavailable"
    retry_after_seconds = 1

    def __init__(
        self, detail: str = "Tjänsten är hårt belastad just nu. Försök igen om en stund."
    ) -> None:
        super().__init__(detail)
