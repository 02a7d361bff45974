"""No secret reaches a log line, wherever it hides in a record."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import structlog

from catalyst.config import load_settings
from catalyst.log import MASK, Redactor, configure_logging, flush_logging

SECRET = "hunter2-XYZ"


def test_a_secret_inside_a_string_is_masked() -> None:
    assert Redactor([SECRET]).value(f"login with {SECRET} failed") == f"login with {MASK} failed"


def test_secrets_in_nested_dicts_and_lists_are_masked() -> None:
    redacted = Redactor([SECRET]).value({"a": [{"b": (f"x{SECRET}y", 1)}], "n": 2})
    assert redacted == {"a": [{"b": [f"x{MASK}y", 1]}], "n": 2}


def test_objects_are_rendered_as_text_and_masked() -> None:
    assert Redactor([SECRET]).value(RuntimeError(f"auth {SECRET}")) == f"auth {MASK}"


def test_url_passwords_are_masked_even_when_not_registered() -> None:
    assert (
        Redactor().text("mailtos://ops:pa55word@smtp.example.com") == f"mailtos://ops:{MASK}@smtp.example.com"
    )


def test_url_tokens_are_masked_even_when_not_registered() -> None:
    assert Redactor().text("https://hooks.example.com/x?a=1&token=abc123&b=2") == (
        f"https://hooks.example.com/x?a=1&token={MASK}&b=2"
    )


def test_values_of_secret_named_keys_are_masked() -> None:
    assert Redactor()(None, "info", {"event": "x", "api_key": "k-1", "detail": {"password": "p"}}) == {
        "event": "x",
        "api_key": MASK,
        "detail": {"password": MASK},
    }


def test_ordinary_values_pass_unchanged() -> None:
    record = {"event": "fill", "price": "388.20", "qty": 100, "symbol": "700"}
    assert Redactor([SECRET])(None, "info", record) == record


def test_no_configured_secret_reaches_the_log_file(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "CATALYST_ALERT_URLS": "discord://4711/AbCdEfGhIjKlMnOpQrStUv, json://ops:pw-1a2b3c@hooks.local/alert",
            "CATALYST_SMTP_PASSWORD": "smtp-pass-98765",
        }
    )
    path = configure_logging(run_dir=tmp_path, secrets=settings.secret_values(), stream=io.StringIO())
    assert path is not None
    log = structlog.get_logger("catalyst.risk.alerts")
    log.info("alerts.channels", urls=settings.alert_urls())
    log.warning("alerts.failed", detail={"reason": ["login smtp-pass-98765 refused"]})
    logging.getLogger("apprise").error("Failed to send to discord://4711/AbCdEfGhIjKlMnOpQrStUv")
    try:
        raise ConnectionError("token AbCdEfGhIjKlMnOpQrStUv rejected")
    except ConnectionError:
        log.exception("alerts.crash")
    flush_logging()
    text = path.read_text(encoding="utf-8")
    for secret in ("AbCdEfGhIjKlMnOpQrStUv", "pw-1a2b3c", "smtp-pass-98765"):
        assert secret not in text
    assert text.count(MASK) >= 4


def test_the_console_output_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, console=True, secrets=[SECRET])
    structlog.get_logger("t").info("connect", password_hint=f"is {SECRET}")
    assert SECRET not in stream.getvalue()
