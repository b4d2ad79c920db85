"""Reading the partner register (PARTNERS_FILE, TOML) at start, failing with a message a person can act on.

Every problem names the file, the partner and the field, because the person fixing it is looking at the file.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from referral_intake.domain.partner import Partner, PartnerRegister

PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
# GPs and NHS organisations have ODS codes and refer as themselves; a person is not an organisation.
PartnerKind = Literal["social-worker", "community-organisation", "other"]


class PartnersFileError(Exception):
    """The partner register cannot be used; the message says where and how to fix it."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PartnerId
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: PartnerKind
    email: str
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None

    @field_validator("email")
    @classmethod
    def _deliverable_shape(cls, email: str) -> str:
        try:
            return validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address replies can go to: {exc}") from None


class _Register(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partners: list[_Entry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> _Register:
        seen: set[str] = set()
        for entry in self.partners:
            if entry.id in seen:
                raise ValueError(f"partner id '{entry.id}' is registered twice; each partner needs its own id")
            seen.add(entry.id)
        return self


def demo_partners_file() -> Path:
    return Path(str(resources.files("referral_intake") / "demo" / "partners.toml"))


def load_partners(path: Path | None) -> PartnerRegister:
    """The register in `path` (the demo register when None); PartnersFileError names what is wrong."""
    path = path or demo_partners_file()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PartnersFileError(f"partners file {path}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PartnersFileError(f"partners file {path}: is not valid TOML: {exc}") from None
    try:
        register = _Register.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(_problem(error, document) for error in exc.errors())
        raise PartnersFileError(f"partners file {path}: {problems}") from None
    return PartnerRegister(Partner(e.id, e.name, e.kind, e.email, e.phone) for e in register.partners)


def _problem(error: Any, document: dict[str, Any]) -> str:
    location = tuple(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    where = "the file"
    if len(location) >= 2 and location[0] == "partners" and isinstance(location[1], int):
        entries = document.get("partners") or []
        entry = entries[location[1]] if location[1] < len(entries) and isinstance(entries[location[1]], dict) else {}
        where = f"partner {location[1] + 1} ({entry.get('id') or 'no id'})"
        location = location[2:]
    field = ".".join(str(part) for part in location)
    if error["type"] == "missing":
        return f"{where}: field '{field}' is missing"
    if error["type"] == "extra_forbidden":
        return f"{where}: field '{field}' is not a partner setting (id, name, kind, email, phone)"
    if field == "id" and error["type"] == "string_pattern_mismatch":
        message = "use lowercase letters, digits and hyphens (2 to 63), like 'leeds-mind'"
    shown = repr(error.get("input"))
    return f"{where}: field '{field or '(top level)'}': {message} (got {shown[:80]})"
