"""Who may send referrals on the inbound topic: INBOUND_PRODUCERS, a TOML file of producers.

A producer is named by the CloudEvents `source` it sends with. It sends as an integration engine
(the referrals:write-on-behalf rule): for the ODS codes listed in its `send_for` only, and it is
recorded as the referral's sender. In production the broker authenticates each producer's Kafka
principal and its ACLs decide who may write to the topic at all; Kafka records do not carry the
writer's principal, so `kafka_principal` here documents the pairing for the ACLs (deploy/) and is
not checked by Signpost.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from signpost_contracts.events.common import CODE_LIMIT, NAME_LIMIT, URI_LIMIT
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal

OdsCode = Annotated[str, Field(min_length=1, max_length=CODE_LIMIT)]


class ProducersFileError(Exception):
    """INBOUND_PRODUCERS cannot be used; the message names the file and the field."""


class _Producer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1, max_length=URI_LIMIT)
    system: str = Field(min_length=1, max_length=NAME_LIMIT)
    ods_code: OdsCode | None = None
    send_for: list[OdsCode] = Field(min_length=1)
    kafka_principal: str | None = None


class _ProducersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: list[_Producer] = []

    @model_validator(mode="after")
    def _sources_are_unique(self) -> _ProducersFile:
        sources = [p.source for p in self.producer]
        repeated = sorted({s for s in sources if sources.count(s) > 1})
        if repeated:
            raise ValueError(f"source {', '.join(repeated)} is listed more than once; list each producer once")
        return self


@dataclass(frozen=True)
class InboundProducer:
    source: str
    system: str
    send_for: frozenset[str]
    ods_code: str | None = None

    @property
    def principal(self) -> Principal:
        """The producer as the use case sees any sender: an intermediary allowed to send for `send_for`."""
        return Principal(
            subject=self.system,
            scopes=frozenset({Scope.REFERRALS_WRITE_ON_BEHALF.value}),
            ods_code=self.ods_code,
            on_behalf_of=self.send_for,
        )


@dataclass(frozen=True)
class Producers:
    by_source: dict[str, InboundProducer]
    origin: str  # the file they came from, for log lines and refusals

    def identify(self, source: str) -> InboundProducer | None:
        return self.by_source.get(source)


def load_producers(path: Path | None) -> Producers:
    if path is None:
        return Producers({}, "no INBOUND_PRODUCERS file")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProducersFileError(f"inbound producers file {path}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProducersFileError(f"inbound producers file {path}: is not valid TOML: {exc}") from None
    try:
        listed = _ProducersFile.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ProducersFileError(f"inbound producers file {path}: {problems}") from None
    producers = {
        p.source: InboundProducer(p.source, p.system, frozenset(p.send_for), p.ods_code) for p in listed.producer
    }
    return Producers(producers, str(path))


def _problem(error: Any) -> str:
    where = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in error["loc"]).replace(".[", "[")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"field '{where}' is missing"
    if error["type"] == "extra_forbidden":
        return f"field '{where}' is not a known setting; check its spelling"
    return f"field '{where or '(top level)'}': {message}"
