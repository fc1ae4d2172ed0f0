"""The config file, read once into typed settings and checked before anything runs.

Every table of ``config.toml`` is a pydantic model here: ``[agent]``, ``[accounts.NAME]``,
``[smtp]``, ``[chat]``, ``[heard]``, ``[ingest]``, ``[emotion]``, ``[sla]`` and
``[[rules]]``. :func:`load_settings` validates the whole file at once, so a broken rule
or SLA duration stops the command that loaded it, not an import halfway through. A bad
value is one sentence naming the file, table, key and what was expected; an unknown key
is only a warning (in :attr:`Settings.warnings`) naming the nearest known key, except
in a rule's ``when``/``unless``, where ignoring a misspelt condition would make the rule
match more than it says. Services receive these objects and build their own domain
objects from them (:class:`deskterm.sla.SlaPolicy`, :class:`deskterm.triage.Rule`).
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from deskterm import paths
from deskterm.settings.tables import (
    AccountSettings,
    AgentSettings,
    ChatSettings,
    ConfigError,
    EmotionSettings,
    HeardSettings,
    IngestSettings,
    KbSettings,
    SmtpSettings,
    _Table,
)
from deskterm.settings.values import nearest
from deskterm.settings.workflow import RuleSettings, SlaSettings, _rules_array
from deskterm.textsafe import clean_line

# -- the whole file -----------------------------------------------------------------------


class Settings(_Table):
    """The whole config. ``path`` is the file read (``None``: defaults, no file) and
    ``warnings`` the unknown keys found in it."""

    agent: AgentSettings = AgentSettings()
    accounts: dict[str, AccountSettings] = {}
    smtp: SmtpSettings | None = None
    chat: ChatSettings = ChatSettings()
    heard: HeardSettings = HeardSettings()
    ingest: IngestSettings = IngestSettings()
    emotion: EmotionSettings = EmotionSettings()
    kb: KbSettings = KbSettings()
    sla: SlaSettings = SlaSettings()
    rules: Annotated[tuple[RuleSettings, ...], BeforeValidator(_rules_array)] = ()
    _path: Path | None = PrivateAttr(default=None)
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("accounts", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {**v, "name": k} if isinstance(v, dict) else v for k, v in value.items()}
        return value

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: tuple[RuleSettings, ...]) -> tuple[RuleSettings, ...]:
        seen: set[str] = set()
        for index, rule in enumerate(rules):
            if rule.name in seen:
                raise PydanticCustomError(
                    "deskterm",
                    "{text}",
                    {"key": (index, "name"), "text": "another rule already has this name"},
                )
            seen.add(rule.name)
        return rules

    @model_validator(mode="after")
    def _located(self, info: ValidationInfo) -> Settings:
        self._path = (info.context or {}).get("path")
        self._warnings = tuple(clean_line(w) for w in _unknown_keys(self, "", self._path))
        return self

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._warnings

    def require_smtp(self) -> SmtpSettings:
        """``[smtp]``, or the error that says replies by email need it."""
        if self.smtp is None:
            raise ConfigError(
                "Replies by email need an [smtp] section in the config (host, security, "
                "username and a password source)."
            )
        return self.smtp


def parse_settings(data: dict[str, Any], path: Path | None = None) -> Settings:
    """Validate parsed TOML; the first problem is a :class:`ConfigError` sentence."""
    base = path.parent if path is not None else None
    try:
        return Settings.model_validate(data, context={"path": path, "base": base})
    except ValidationError as exc:
        raise ConfigError(clean_line(_sentence(exc.errors()[0], data, path))) from None


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the config file (a missing file means defaults).

    A file holding a plain ``password`` must not be readable by group or others: we
    refuse it rather than spread a secret (PRODUCT.md §8).
    """
    path = path or paths.config_file()
    if not path.exists():
        if os.environ.get("DESKTERM_CONFIG"):
            raise ConfigError(f"Config file {path} (from DESKTERM_CONFIG) does not exist.")
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}.") from exc
    if _contains_key(data, "password"):
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"Config file {path} holds a password and is readable by others; "
                f"run: chmod 600 {path}"
            )
    return parse_settings(data, path)


def _contains_key(data: Any, key: str) -> bool:
    if isinstance(data, dict):
        return key in data or any(_contains_key(v, key) for v in data.values())
    if isinstance(data, list):
        return any(_contains_key(v, key) for v in data)
    return False


# -- saying what is wrong -----------------------------------------------------------------

_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "model_type": "a table",
    "dict_type": "a table",
}


def _sentence(error: Any, data: dict[str, Any], path: Path | None) -> str:
    """One pydantic error as ``FILE [TABLE] KEY: expected WHAT, got VALUE.``"""
    loc = list(error["loc"])
    ctx = error.get("ctx") or {}
    extra = ctx.get("key")
    if extra is not None and error["type"] == "deskterm":
        loc.extend(extra if isinstance(extra, tuple) else (extra,))
    where = _where(loc, data)
    kind = error["type"]
    if kind == "missing":
        what = "required, but missing"
    elif kind == "deskterm":
        what = error["msg"]
    elif kind == "literal_error":
        what = f"expected {ctx['expected']}, got {_shown(error['input'])}"
    elif kind == "value_error":
        what = f"{ctx['error']}, got {_shown(error['input'])}"
    else:
        expected = _EXPECTED.get(kind) or error["msg"].removeprefix("Input should be ")
        what = f"expected {expected}, got {_shown(error['input'])}"
    return f"{path or 'config'} {where}: {what}."


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(loc: list[Any], data: dict[str, Any]) -> str:
    """``[sla.targets.urgent] first_response`` or ``[[rules]] #2 ('VIP') when.subject``."""
    while len(loc) > 1 and isinstance(loc[-1], int):
        loc.pop()  # an item of a list: the key names the list
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = data.get("rules")
        rule = rules[loc[1]] if isinstance(rules, list) else {}
        name = rule.get("name") if isinstance(rule, dict) else None
        label = f"[[rules]] #{loc[1] + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
        rest = ".".join(map(str, loc[2:]))
        return f"{label} {rest}" if rest else label
    names = [str(part) for part in loc]
    if len(names) == 1:
        return "[[rules]]" if names[0] == "rules" else f"[{names[0]}]"
    return f"[{'.'.join(names[:-1])}] {names[-1]}"


def _unknown_keys(model: BaseModel, place: str, path: Path | None) -> Iterator[str]:
    """A warning per key the file sets that no model knows, with the nearest known key.

    ``place`` is how the table is named before a key: ``""`` (top level), ``"[agent] "``,
    ``"[[rules]] #1 ('VIP') set."``.
    """
    fields = type(model).model_fields
    known = [f.alias or name for name, f in fields.items() if not f.exclude]
    for key in model.model_extra or {}:
        what = f"table [{key}]" if not place else f"key {place}{key}"
        yield f"{path or 'config'}: unknown {what}{nearest(key, known)}"
    for name, f in fields.items():
        value, key = getattr(model, name), f.alias or name
        if isinstance(value, _Table):
            yield from _unknown_keys(value, _inside(place, key), path)
        elif isinstance(value, dict):
            for sub, item in value.items():
                if isinstance(item, _Table):
                    yield from _unknown_keys(item, _inside(_inside(place, key), sub), path)
        elif key == "rules":
            for index, rule in enumerate(value):
                yield from _unknown_keys(rule, f"[[rules]] #{index + 1} ({rule.name!r}) ", path)


def _inside(place: str, key: str) -> str:
    if not place:
        return f"[{key}] "
    if place.startswith("[["):
        return f"{place}{key}."
    return f"{place[:-2]}.{key}] "


__all__ = [
    "AccountSettings",
    "AgentSettings",
    "ChatSettings",
    "ConfigError",
    "EmotionSettings",
    "HeardSettings",
    "IngestSettings",
    "RuleSettings",
    "Settings",
    "SlaSettings",
    "SmtpSettings",
    "load_settings",
    "parse_settings",
]
