"""The value types every table uses, and the tables about people and servers:
``[agent]``, ``[accounts.NAME]``, ``[smtp]``, ``[chat]``, ``[heard]``, ``[ingest]``,
``[emotion]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from deskterm.credentials import SOURCES, CredentialError, resolve_password
from deskterm.settings.values import parse_zone
from deskterm.vocab import PRIORITIES

DEFAULT_ROOT_CAUSES = (
    "product defect", "billing", "process gap", "knowledge gap", "expectation mismatch",
    "third party", "user error", "other",
)  # fmt: skip
_MIB = 1024 * 1024


class ConfigError(Exception):
    """The config file cannot be used; the message says which key and why."""


# -- value types --------------------------------------------------------------------------


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a non-empty string")
    return value.strip()


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _not_empty(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value or not all(v.strip() for v in value):
        raise ValueError("expected a non-empty list of non-empty strings")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _address(value: str) -> str:
    if value and "@" not in value:
        raise ValueError("expected an email address")
    return value.strip().lower()


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("expected a port number from 1 to 65535")
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("expected a number above 0")
    return value


def _count(value: int) -> int:
    if value <= 0:
        raise ValueError("expected a whole number above 0")
    return value


def _priority(value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in PRIORITIES:
        raise ValueError(f"expected one of {', '.join(PRIORITIES)}")
    return value.lower()


def _keyring(value: Any) -> bool | str:
    if isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    raise ValueError("expected true or a keyring service name")


def _existing_file(value: Any, info: ValidationInfo) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError("expected the path of a file")
    path = Path(value).expanduser()
    base = (info.context or {}).get("base")
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        looked = f" (looked at {path})" if str(path) != value else ""
        raise ValueError(f"expected an existing file{looked}")
    return path


Text = Annotated[str, Strict(), AfterValidator(_text)]
Words = Annotated[tuple[Annotated[str, Strict()], ...], BeforeValidator(_one_or_many)]
Number = Annotated[float, Strict(), AfterValidator(_positive)]
Count = Annotated[int, Strict(), AfterValidator(_count)]
Flag = Annotated[bool, Strict()]
Port = Annotated[int, Strict(), AfterValidator(_port)]
Priority = Annotated[str, PlainValidator(_priority)]
FilePath = Annotated[Path, PlainValidator(_existing_file)]


def _said(key: str, text: str) -> PydanticCustomError:
    """A finding about ``key`` of the table being validated, as one clause (the text
    goes in as a value, so braces in what the user wrote are not a template)."""
    return PydanticCustomError("deskterm", "{text}", {"key": key, "text": text})


class _Table(BaseModel):
    """A config table: values are immutable; unknown keys are kept, to warn about."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


# -- who, where from ----------------------------------------------------------------------


class AgentSettings(_Table):
    """Who is working: the actor written to the event log and the From of replies."""

    name: Text = "agent"
    email: Annotated[str, Strict(), AfterValidator(_address)] = ""
    aliases: Annotated[Words, AfterValidator(lambda v: tuple(_address(a) for a in v))] = ()

    def addresses(self) -> set[str]:
        """Every address whose mail is outbound (lower-cased)."""
        return {a for a in (self.email, *self.aliases) if a}


class _Secured(_Table):
    """A server login: TLS mode and one password source (resolved only when needed)."""

    security: Literal["tls", "starttls", "none"] = "tls"
    allow_plaintext: Flag = False
    password_cmd: Text | None = None
    password_env: Text | None = None
    keyring: Annotated[bool | str, PlainValidator(_keyring)] = False
    plain_password: Text | None = Field(default=None, alias="password")
    timeout: Number = 30.0

    @model_validator(mode="after")
    def _checked(self) -> _Secured:
        if self.security == "none" and not self.allow_plaintext:
            raise _said(
                "security",
                "'none' sends the password unencrypted; add allow_plaintext = true "
                "if you really mean it",
            )
        found = [k for k, v in self.secret().items() if k in SOURCES and v is not False]
        if len(found) > 1:
            raise _said(found[-1], f"sets {' and '.join(found)}; keep only one password source")
        return self

    def secret(self) -> dict[str, Any]:
        """The password source keys as written, for :mod:`deskterm.credentials`."""
        given = self.model_dump(by_alias=True, exclude_unset=True)
        return {k: given[k] for k in (*SOURCES, "username") if k in given}

    def resolve(self, where: str) -> str:
        """The password, now (runs ``password_cmd``, reads the keyring...)."""
        try:
            return resolve_password(self.secret(), where)
        except CredentialError as exc:
            raise ConfigError(str(exc)) from exc


class AccountSettings(_Secured):
    """One ``[accounts.NAME]`` IMAP account (``name`` is the table's name)."""

    name: str = Field(default="", exclude=True)
    host: Text
    username: Text
    port: Port = 993
    folders: Annotated[Words, AfterValidator(_not_empty)] = ("INBOX",)
    cafile: FilePath | None = None
    verify: Flag = True
    mark_read: Flag = False

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and "port" not in data:
            return {**data, "port": 993 if data.get("security", "tls") == "tls" else 143}
        return data

    @property
    def where(self) -> str:
        """The config table, as error messages name it."""
        return f"accounts.{self.name}"

    def password(self) -> str:
        """Resolve the password now; a :class:`ConfigError` says what is missing."""
        return self.resolve(self.where)


class SmtpSettings(_Secured):
    """``[smtp]``: the server replies to email tickets go through."""

    host: Text
    security: Literal["tls", "starttls", "none"] = "starttls"
    port: Port = 587
    username: Text | None = None
    ca_file: FilePath | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and "port" not in data:
            ports = {"tls": 465, "starttls": 587}
            return {**data, "port": ports.get(data.get("security", "starttls"), 25)}
        return data

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def password(self) -> str:
        return self.resolve("smtp")


def _region(value: str) -> str:
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("expected a region code (ISO 3166) such as US or PT")
    return code


def _zone_name(value: str) -> str:
    parse_zone(value)
    return value


class ChatSettings(_Table):
    """Who in a chat is an agent, and how chat exports become tickets."""

    agents: Words = ()
    default_region: Annotated[str, Strict(), AfterValidator(_region)] = "US"
    timezone: Annotated[str, Strict(), AfterValidator(_zone_name)] | None = None
    session_gap_hours: Number = 24.0
    batch_size: Count | None = None  # default: ten times [ingest] batch_size


class HeardSettings(_Table):
    """HEARD checklist policy: what happens when solving with steps open."""

    solve_policy: Literal["off", "warn", "require"] = "warn"
    root_causes: Annotated[Words, AfterValidator(_not_empty)] = DEFAULT_ROOT_CAUSES


class IngestSettings(_Table):
    """Knobs of the ingest pipeline shared by every connector."""

    thread_window_days: Number = 14.0
    batch_size: Count = 500  # most records per transaction; mail file imports allow 4x unless set
    batch_ms: Count = 25  # a batch's transaction aims to last this long (agents wait on it)
    default_queue: Text = "general"
    store_attachments: Flag = False
    attachment_max_bytes: Count = 25 * _MIB
    max_message_bytes: Count = 50 * _MIB  # of one mail; past it only the head is read
    archive_max_bytes: Count = 8 * 1024 * _MIB
    archive_member_max_bytes: Count = 2 * 1024 * _MIB
    archive_max_ratio: Count = 200


class EmotionSettings(_Table):
    """``[emotion] enabled = false`` switches emotion cues off at ingest."""

    enabled: Flag = True


class KbSettings(_Table):
    """``[kb]``: the articles' folder (default: beside the store) and where public
    articles are published, for links in replies."""

    folder: Text | None = None
    base_url: Text | None = None
