"""Reading the policy and roster files (TOML), failing with a message a person can act on.

Every problem names the file, the field and what was expected, because the person fixing it is
looking at the file, not at a stack trace.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from triage.domain.policy import Policy
from triage.domain.roster import Roster

ModelT = TypeVar("ModelT", bound=BaseModel)


class ConfigFileError(Exception):
    """A policy or roster file cannot be used; the message says where and how to fix it."""


@dataclass(frozen=True)
class Loaded(Generic[ModelT]):
    value: ModelT
    source: str


def demo_file(name: str) -> Path:
    """A file shipped in the package for local use (`make run`) when no path is configured."""
    return Path(str(resources.files("triage") / "demo" / name))


def _field(location: tuple[int | str, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def _problem(error: Any) -> str:
    where = _field(tuple(error["loc"]))
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"field '{where}' is missing"
    if error["type"] == "extra_forbidden":
        return f"field '{where}' is not a known setting; check its spelling"
    shown = repr(error.get("input"))
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return f"field '{where}': {message[0].lower()}{message[1:]} (got {shown})"


def _load(model: type[ModelT], path: Path, what: str) -> Loaded[ModelT]:
    source = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"{what} file {source}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{what} file {source}: is not valid TOML: {exc}") from None
    try:
        return Loaded(model.model_validate(document), source)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigFileError(f"{what} file {source}: {problems}") from None


def load_policy(path: Path | None) -> Loaded[Policy]:
    return _load(Policy, path or demo_file("policy.toml"), "policy")


def load_roster(path: Path | None) -> Loaded[Roster]:
    return _load(Roster, path or demo_file("roster.toml"), "roster")
