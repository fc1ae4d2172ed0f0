"""The TOML config file, read once into plain dataclasses.

Sections are the contract of PRODUCT.md and the issues: ``[agent]``,
``[accounts.NAME]``, ``[chat]``, ``[heard]``, ``[ingest]``, ``[smtp]``, ``[[rules]]``,
``[sla]``. Unknown keys are kept in ``Config.raw`` so later features can read them
without a schema change here.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskterm import paths

DEFAULT_ROOT_CAUSES = (
    "product defect",
    "billing",
    "process gap",
    "knowledge gap",
    "expectation mismatch",
    "third party",
    "user error",
    "other",
)


class ConfigError(Exception):
    """The config file cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class AgentConfig:
    """Who is working: the actor written to the event log and the From of replies."""

    name: str = "agent"
    email: str = ""
    aliases: tuple[str, ...] = ()

    def addresses(self) -> set[str]:
        """Every address whose mail is outbound (lower-cased)."""
        return {a.lower() for a in (self.email, *self.aliases) if a}


@dataclass(frozen=True)
class HeardConfig:
    """HEARD checklist policy: what happens when solving with steps open."""

    solve_policy: str = "warn"  # off | warn | require
    root_causes: tuple[str, ...] = DEFAULT_ROOT_CAUSES


@dataclass(frozen=True)
class IngestConfig:
    """Knobs of the ingest pipeline shared by every connector."""

    thread_window_days: float = 14.0
    session_gap_hours: float = 24.0
    batch_size: int = 500
    store_attachments: bool = False
    attachment_max_bytes: int = 25 * 1024 * 1024


@dataclass(frozen=True)
class ChatConfig:
    """Which chat participants are agents (names, phone numbers or platform ids)."""

    agents: tuple[str, ...] = ()
    default_region: str = "US"


@dataclass(frozen=True)
class Config:
    """The whole config; ``raw`` keeps the parsed TOML for sections read elsewhere."""

    path: Path | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    heard: HeardConfig = field(default_factory=HeardConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    chat: ChatConfig = field(default_factory=ChatConfig)
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table of the file, or an empty dict."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] in {self.path} must be a table.")
        return value


def _contains_key(data: Any, key: str) -> bool:
    if isinstance(data, dict):
        return key in data or any(_contains_key(v, key) for v in data.values())
    if isinstance(data, list):
        return any(_contains_key(v, key) for v in data)
    return False


def _typed(table: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}.{key} must be a list of strings.")
        return tuple(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ConfigError(f"{where}.{key} must be a {kind.__name__}, not {value!r}.")
    return value


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML, raising :class:`ConfigError` on bad values."""
    cfg = Config(path=path, raw=data)
    agent = cfg.section("agent")
    heard = cfg.section("heard")
    ingest = cfg.section("ingest")
    chat = cfg.section("chat")
    policy = _typed(heard, "solve_policy", str, "warn", "heard")
    if policy not in ("off", "warn", "require"):
        raise ConfigError(f"heard.solve_policy must be off, warn or require, not {policy!r}.")
    defaults = IngestConfig()
    return Config(
        path=path,
        raw=data,
        agent=AgentConfig(
            name=_typed(agent, "name", str, "agent", "agent"),
            email=_typed(agent, "email", str, "", "agent").lower(),
            aliases=tuple(a.lower() for a in _typed(agent, "aliases", tuple, (), "agent")),
        ),
        heard=HeardConfig(
            solve_policy=policy,
            root_causes=_typed(heard, "root_causes", tuple, DEFAULT_ROOT_CAUSES, "heard"),
        ),
        ingest=IngestConfig(
            thread_window_days=_typed(
                ingest, "thread_window_days", float, defaults.thread_window_days, "ingest"
            ),
            session_gap_hours=_typed(
                ingest,
                "session_gap_hours",
                float,
                _typed(chat, "session_gap_hours", float, defaults.session_gap_hours, "chat"),
                "ingest",
            ),
            batch_size=_typed(ingest, "batch_size", int, defaults.batch_size, "ingest"),
            store_attachments=_typed(ingest, "store_attachments", bool, False, "ingest"),
            attachment_max_bytes=_typed(
                ingest, "attachment_max_bytes", int, defaults.attachment_max_bytes, "ingest"
            ),
        ),
        chat=ChatConfig(
            agents=_typed(chat, "agents", tuple, (), "chat"),
            default_region=_typed(chat, "default_region", str, "US", "chat"),
        ),
    )


def load_config(path: Path | None = None) -> Config:
    """Read the config file (a missing file means defaults).

    A file holding a plain ``password`` must not be readable by group or others: we
    refuse it rather than spread a secret (PRODUCT.md §8).
    """
    path = path or paths.config_file()
    if not path.exists():
        if os.environ.get("DESKTERM_CONFIG"):
            raise ConfigError(f"Config file {path} (from DESKTERM_CONFIG) does not exist.")
        return Config(path=None)
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
    return parse_config(data, path)
