"""The connector roster, as read from its file: who covers which districts, of what kind, with what room."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from signpost_contracts.vocabulary import ConnectorKind
from triage.domain.policy import Prefix
from triage.domain.referral import primary_language

# available: takes new work; on-leave and left: no new work, their open cases are listed for reassignment.
Status = Literal["available", "on-leave", "left"]
STATUSES: tuple[Status, ...] = ("available", "on-leave", "left")


def _language(tag: str) -> str:
    primary = primary_language(tag)
    if not primary or not primary.isalpha():
        raise ValueError(f"{tag!r} is not a language tag; use a BCP-47 tag such as 'en', 'pa' or 'ur'")
    return primary


class Connector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    display_name: str = Field(min_length=1)
    areas: list[Prefix] = Field(min_length=1, description="postcode areas or districts covered")
    kind: ConnectorKind
    capacity: int = Field(ge=0, le=1000, description="most open cases at once")
    languages: list[Annotated[str, AfterValidator(_language)]] = []
    specialisms: list[Annotated[str, AfterValidator(lambda value: value.strip().lower())]] = []
    status: Status = "available"


class Roster(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connectors: list[Connector] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Roster:
        ids = [connector.id for connector in self.connectors]
        repeated = sorted({connector_id for connector_id in ids if ids.count(connector_id) > 1})
        if repeated:
            raise ValueError(f"connector ids must be unique; repeated: {', '.join(repeated)}")
        return self
