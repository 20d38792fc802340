"""Domain errors. Each carries its HTTP status so one handler can render them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """A problem with one named input field, in words shown to the user (Swedish) and, where
    given, to an API client (English; the JSON API falls back to the Swedish)."""

    field: str
    message: str
    english: str | None = None

    @property
    def for_api(self) -> str:
        return self.english or self.message


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, errors: list[FieldError] | None = None, english: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail  # Swedish, for the pages
        self.english = english  # for the JSON API; it falls back to `detail`
        self.errors = errors or []

    @property
    def detail_for_api(self) -> str:
        return self.english or self.detail


class ValidationFailed(DomainError):
    """Input is malformed or breaks a rule; names every offending field."""

    status_code = 422
    code = "validation_failed"

    def __init__(
        self, errors: list[FieldError], detail: str = "Uppgifterna är inte giltiga."
    ) -> None:
        super().__init__(detail, errors=errors)

    @classmethod
    def one(cls, field_name: str, message: str, english: str | None = None) -> ValidationFailed:
        return cls([FieldError(field_name, message, english)])


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
    """The edit was based on a version that is no longer current. `current_version`, when
    known, goes back to the client so it can fetch, merge and retry without losing its edit."""

    status_code = 409
    code = "stale_version"

    def __init__(self, current_version: int | None = None) -> None:
        super().__init__(
            "Uppgifterna har ändrats av någon annan sedan du hämtade dem. "
            "Ladda om och försök igen.",
            english="The record changed since you fetched it: fetch it again and retry.",
        )
        self.current_version = current_version


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
