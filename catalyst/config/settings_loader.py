"""Reading settings: defaults < ``catalyst.toml`` < ``CATALYST_*`` environment variables.

The file is ``path`` when given, else ``$CATALYST_CONFIG``, else ``./catalyst.toml``; a missing
``./catalyst.toml`` means defaults, a missing file that was asked for explicitly is an error.

Environment variables:

* ``CATALYST_<SECTION>__<KEY>`` sets ``<section>.<key>`` (``CATALYST_RISK__MAX_POSITIONS=5``);
  ``CATALYST_MODE`` sets the mode.
* Short aliases: ``CATALYST_IB_HOST``, ``CATALYST_IB_PORT``, ``CATALYST_IB_ACCOUNT``,
  ``CATALYST_IB_CLIENT_ID`` (the ``broker`` section).
* Secrets: ``CATALYST_ALERT_URLS`` (apprise URLs separated by commas or spaces) and any variable
  ending in ``_PASSWORD``, ``_TOKEN``, ``_SECRET`` or ``_API_KEY`` (kept in ``Settings.secrets``).
* Not settings, read elsewhere: ``CATALYST_CONFIG``, ``CATALYST_RUN_ID``, ``CATALYST_RUN_DIR``.

Anything else starting with ``CATALYST_`` is refused, as are unknown toml keys, secrets in the toml,
wrong types and out-of-range values: each raises :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from catalyst.config.errors import ConfigError
from catalyst.config.settings import Settings

ENV_PREFIX = "CATALYST_"
CONFIG_ENV = "CATALYST_CONFIG"
ALERT_URLS_ENV = "CATALYST_ALERT_URLS"
DEFAULT_FILE = Path("catalyst.toml")

#: Short names for the broker connection, as IB users know them.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "CATALYST_IB_HOST": ("broker", "host"),
    "CATALYST_IB_PORT": ("broker", "port"),
    "CATALYST_IB_ACCOUNT": ("broker", "account"),
    "CATALYST_IB_CLIENT_ID": ("broker", "client_id"),
    "CATALYST_MODE": ("mode",),
}

#: CATALYST_ variables that are not settings (other parts of Catalyst read them).
NON_SETTING_ENV: frozenset[str] = frozenset(
    {
        CONFIG_ENV,
        "CATALYST_RUN_ID",
        "CATALYST_RUN_DIR",
        "CATALYST_LEDGER_SYNC_APPENDS",  # catalyst.ledger: fdatasync every journaled append
        # the test suite's switches (CI sets them; the commands the tests run inherit them)
        "CATALYST_REQUIRE_BROWSER",
        "CATALYST_REQUIRE_CLIENTS",
        "CATALYST_TEST_CLIENTS",
        "CATALYST_CHAOS_SEED",
        "CATALYST_CHAOS_ROUNDS",
        "CATALYST_CHAOS_KEEP_GOING",
        "CATALYST_IB_CAPTURE",  # where the opt-in IB paper suite records its session (or "off")
        # test-only crash points (catalyst.broker.crash_points)
        "CATALYST_CRASH_POINT",
        "CATALYST_CRASH_PARENT",
    }
)

SECRET_ENV = re.compile(r"^CATALYST_([A-Z0-9_]*(PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|APIKEY))$")
#: A toml key with one of these names holds a secret, which belongs in the environment.
SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credential|webhook|^urls?$)", re.IGNORECASE)
#: A URL carrying credentials (``user:pass@``) or a credential parameter is a secret too.
SECRET_URL = re.compile(r"://[^/\s]*:[^/\s]*@|[?&](token|key|secret|password|apikey)=", re.IGNORECASE)

_NONE_WORDS = frozenset({"none", "null"})


def _dotted(loc: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    flat: dict[tuple[str, ...], Any] = {}
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def _set(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = target
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{_dotted(path[:-1])} is a value, not a section", keys=(_dotted(path),))
        node = child
    node[path[-1]] = value


def config_path(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, bool]:
    """The toml file to read and whether it was asked for explicitly (so its absence is an error)."""
    if path is not None:
        return Path(path), True
    env = (os.environ if environ is None else environ).get(CONFIG_ENV, "").strip()
    if env:
        return Path(env), True
    return DEFAULT_FILE, False


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc}") from exc


def _refuse_toml_secrets(flat: Mapping[tuple[str, ...], Any], path: Path) -> None:
    for key, value in flat.items():
        dotted = _dotted(key)
        if any(SECRET_KEY.search(part) for part in key):
            raise ConfigError(
                f"{dotted}: secrets are read from environment variables only, never from {path}. "
                f"Remove the key and set {_env_hint(key)} instead",
                keys=(dotted,),
            )
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and SECRET_URL.search(t) for t in texts):
            raise ConfigError(
                f"{dotted}: the value in {path} looks like a URL with credentials; secrets are read "
                "from environment variables only (alert URLs: CATALYST_ALERT_URLS)",
                keys=(dotted,),
            )


def _env_hint(key: tuple[str, ...]) -> str:
    if key[-1].lower().startswith("url") or key[0] == "alerts":
        return ALERT_URLS_ENV
    return ENV_PREFIX + "_".join(key).upper()


def _split_urls(text: str) -> list[str]:
    return [u for u in re.split(r"[,\s]+", text.strip()) if u]


def read_env(environ: Mapping[str, str]) -> tuple[dict[tuple[str, ...], Any], dict[tuple[str, ...], str]]:
    """Settings found in the environment, and the variable each came from."""
    values: dict[tuple[str, ...], Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    sections = {name for name, field in Settings.model_fields.items() if _is_section(field.annotation)}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in NON_SETTING_ENV:
            continue
        raw = environ[name]
        if name == ALERT_URLS_ENV:
            path: tuple[str, ...] = ("alerts", "urls")
            values[path] = _split_urls(raw)
            origin[path] = f"env:{name}"
            continue
        secret = SECRET_ENV.match(name)
        if secret:
            path = ("secrets", secret.group(1).lower())
            values[path] = raw
            origin[path] = f"env:{name}"
            continue
        if name in ENV_ALIASES:
            path = ENV_ALIASES[name]
        else:
            rest = name[len(ENV_PREFIX) :].lower()
            parts = tuple(rest.split("__"))
            top_level = len(parts) == 1 and parts[0] in Settings.model_fields and parts[0] not in sections
            if top_level or (len(parts) == 2 and parts[0] in sections):
                path = parts
            else:
                known = ", ".join(sorted(sections))
                raise ConfigError(
                    f"{name}: unknown Catalyst environment variable. Settings are CATALYST_<SECTION>__<KEY> "
                    f"(sections: {known}), CATALYST_MODE, the CATALYST_IB_* aliases, CATALYST_ALERT_URLS "
                    "or a secret ending in _PASSWORD/_TOKEN/_SECRET/_API_KEY. Unset it or fix its name",
                    keys=(_dotted(parts),),
                )
        if path in values:
            raise ConfigError(
                f"{_dotted(path)} is set twice in the environment ({origin[path][4:]} and {name}); keep one",
                keys=(_dotted(path),),
            )
        values[path] = None if raw.strip().lower() in _NONE_WORDS else raw
        origin[path] = f"env:{name}"
    return values, origin


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _validation_message(exc: ValidationError, origin: Mapping[str, str]) -> ConfigError:
    lines: list[str] = []
    keys: list[str] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        key = _dotted(loc)
        msg = str(err.get("msg", "invalid"))
        if not key and "Value error, " in msg:
            msg = msg.split("Value error, ", 1)[1]
            key = msg.split(":", 1)[0] if ":" in msg.split(" ", 1)[0] else ""
            lines.append(msg)
            keys.append(key)
            continue
        msg = msg.replace("Value error, ", "")
        if err.get("type") == "extra_forbidden":
            msg = "unknown setting (check the spelling; `catalyst config show` lists every key)"
        source = origin.get(key)
        shown = "***" if key.startswith(("alerts.urls", "secrets")) else repr(err.get("input"))
        where = f" (from {source})" if source else ""
        if err.get("type") == "extra_forbidden":
            lines.append(f"{key}: {msg}{where}")
        else:
            lines.append(f"{key} = {shown}{where}: {msg}")
        keys.append(key)
    body = "\n  ".join(lines)
    return ConfigError(f"invalid settings:\n  {body}", keys=tuple(keys))


def load_settings(path: Path | str | None = None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate settings; raise ConfigError naming the offending key."""
    env = os.environ if environ is None else environ
    file, explicit = config_path(path, env)
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    used_file: Path | None = None
    if file.is_file():
        used_file = file.expanduser().resolve()
        flat = _flatten(read_toml(used_file))
        _refuse_toml_secrets(flat, used_file)
        for key, value in flat.items():
            _set(merged, key, value)
            origin[_dotted(key)] = f"toml:{used_file}"
    elif explicit:
        asked_by = "CATALYST_CONFIG" if path is None else "the path given"
        raise ConfigError(
            f"settings file {file} does not exist (from {asked_by}); "
            "create it from catalyst.example.toml or unset CATALYST_CONFIG to use defaults"
        )
    env_values, env_origin = read_env(env)
    for key, value in env_values.items():
        _set(merged, key, value)
        origin[_dotted(key)] = env_origin[key]
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        raise _validation_message(exc, origin) from None
    settings._sources = origin
    settings._config_file = used_file
    return settings
