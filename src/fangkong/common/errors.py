"""Domain errors raised by services and turned into HTTP answers by views and the API.

- ``NotFound`` → 404 (also for objects outside the actor's scope: never confirm they exist)
- ``Conflict`` → 409 (an illegal state change)
- ``Invalid`` → 422 with one message per field
- ``Forbidden`` → 403 (the actor may see the object but not do this to it)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError


class DomainError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def text(self) -> str:
        """What a person reads."""
        return self.message


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Invalid(DomainError):
    """Bad input: ``errors`` maps each field name to its messages."""

    status = 422

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items()))

    def text(self) -> str:
        """The messages alone, for a person to read (field names are for programs)."""
        return " ".join(message for messages in self.errors.values() for message in messages)

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        return cls({field: [message]})

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> Invalid:
        if hasattr(error, "error_dict"):
            return cls(
                {
                    field: [str(m) for e in errs for m in e.messages]
                    for field, errs in error.error_dict.items()
                }
            )
        return cls({"__all__": [str(m) for m in error.messages]})


def validated_save(obj: Any, fields: list[str] | None = None) -> None:
    """Check ``obj`` with the model's own validation, then save it (``fields`` only, when given);
    a failed check is ``Invalid`` naming each field, and nothing is written."""
    try:
        obj.full_clean()
    except ValidationError as error:
        raise Invalid.from_validation_error(error) from error
    obj.save(update_fields=fields)
