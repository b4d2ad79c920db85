"""Base model for integration event payloads.

Producers validate strictly (unknown fields are an error, models are frozen) so a typo never
reaches the wire. Consumers read tolerantly: `read_data` passes a validation context that drops
fields the consumer does not know yet, so a producer may add optional fields within a version
without breaking anyone.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator

_TOLERANT = "tolerant"


class ContractModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_fields_when_reading(cls, data: Any, info: ValidationInfo) -> Any:
        if not (info.context and info.context.get(_TOLERANT) and isinstance(data, dict)):
            return data
        known = set(cls.model_fields)
        known |= {f.alias for f in cls.model_fields.values() if f.alias}
        return {key: value for key, value in data.items() if key in known}


ModelT = TypeVar("ModelT", bound=ContractModel)


class PayloadError(ValueError):
    """An event's data does not fit its type's schema: delivering it again will never help.

    Raised only by `read_data`, so a consumer can tell a bad message (dead-letter it) from a
    ValidationError in its own code (a bug, retried and reported like any other).
    """


def read_data(model: type[ModelT], data: Any) -> ModelT:
    """Parse an event payload as a consumer: unknown fields (added later by the producer) are ignored."""
    try:
        return model.model_validate(data, context={_TOLERANT: True})
    except ValidationError as exc:
        raise PayloadError(f"the event's data is not a valid {model.__name__}: {exc}") from exc
