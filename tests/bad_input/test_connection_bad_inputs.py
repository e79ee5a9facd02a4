"""A bad connection is refused when it is read, naming the field, before any request is sent."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_enkash._client import urls as connection_module
from airflow_provider_enkash.exceptions import EnKashConfigError
from airflow_provider_enkash.hooks.enkash import EnKashHook
from airflow_provider_enkash.token_cache import Token
from tests.conftest import connection_json

HOST = "host (API base URL)"
TOKEN_URL = "extra 'auth_url'"

# (URL template with {port} of the sandbox, what the error must say)
BAD_URLS = [
    ("http://evil.example\\@127.0.0.1:{port}", "backslash"),  # urlsplit: 127.0.0.1; requests: evil.example
    ("http://127.0.0.1:{port}\\@evil.example", "backslash"),
    ("http://user:pw-in-url@127.0.0.1:{port}", "credentials"),
    ("https://enkash.example@127.0.0.1:{port}", "credentials"),
    ("http://127.0.0.1:{port}/a b", "whitespace"),
    ("http://127.0.0.1:{port}/\tx", "whitespace"),
    ("http://127.0.0.1:{port}/x\r\nHost: evil.example", "whitespace"),
    ("http://127.0.0.1:{port}/\x00", "control"),
    ("http://127.0.0.1:{port}/\x7f", "control"),
    ("http://127.0.0.1:{port}/\u200b", "control"),
    ("http://127.0.0.1:{port}/?next=evil", "query"),
    ("http://127.0.0.1:{port}/#frag", "query"),
    ("http://127.0.0.1:99999", "not a valid URL"),
    ("ftp://127.0.0.1:{port}", "https://"),
    ("http://enkash.example", "http://"),
]


def _conn(sandbox_server, *, host=None, **extra):
    conn = json.loads(connection_json(sandbox_server, **extra))
    if host is not None:
        conn["host"] = host
    return conn


def _read(monkeypatch, conn):
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    hook = EnKashHook()
    return hook, hook.settings


@pytest.mark.parametrize(("template", "says"), BAD_URLS)
@pytest.mark.parametrize("field", [HOST, TOKEN_URL])
def test_bad_url_refused_naming_the_field(sandbox, sandbox_server, monkeypatch, template, says, field):
    url = template.format(port=sandbox_server.url.rsplit(":", 1)[1])
    conn = _conn(sandbox_server, auth_url=url) if field == TOKEN_URL else _conn(sandbox_server, host=url)
    monkeypatch.setenv("AIRFLOW_CONN_ENKASH_DEFAULT", json.dumps(conn))
    with pytest.raises(EnKashConfigError) as info:
        EnKashHook().get_card_account_details()
    assert str(info.value).startswith(field), str(info.value)
    assert says in str(info.value)
    assert "pw-in-url" not in str(info.value) and "enkash.example@" not in str(info.value)
    assert sandbox.requests_total() == 0


def test_bad_path_extra_refused(sandbox, sandbox_server, monkeypatch):
    conn = _conn(sandbox_server, paths={"get_card_account_details": "/x\\@evil.example/y"})
    with pytest.raises(EnKashConfigError, match="extra 'paths' entry 'get_card_account_details'"):
        _read(monkeypatch, conn)
    assert sandbox.requests_total() == 0


@pytest.mark.parametrize(
    ("text", "expected"), [("false", False), ("FALSE", False), ("no", False), ("0", False), (False, False)]
)
def test_verify_off_as_text_is_a_boolean_and_warns_once(sandbox_server, monkeypatch, caplog, text, expected):
    connection_module._unverified_warned.clear()
    caplog.set_level(logging.WARNING, logger=connection_module.__name__)
    for _ in range(3):
        _, settings = _read(monkeypatch, _conn(sandbox_server, verify=text))
        assert settings.verify is expected
    warnings = [r for r in caplog.records if "verification is OFF" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("text", ["true", "True", "yes", "1", True])
def test_verify_on_as_text(sandbox_server, monkeypatch, text):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert _read(monkeypatch, _conn(sandbox_server, verify=text))[1].verify is True


def test_verify_bundle_must_exist(sandbox, sandbox_server, monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used by the plain-http sandbox\n")
    assert _read(monkeypatch, _conn(sandbox_server, verify=str(bundle)))[1].verify == str(bundle)
    for bad in (str(tmp_path / "missing.pem"), "flase", 3, ""):
        conn = _conn(sandbox_server, verify=bad)
        if bad == "":
            conn["extra"]["verify"] = " "
        with pytest.raises(EnKashConfigError, match="extra 'verify'"):
            _read(monkeypatch, conn)
    assert sandbox.requests_total() == 0


def test_reprs_hold_no_secret(sandbox_server, monkeypatch):
    _, settings = _read(monkeypatch, _conn(sandbox_server))
    text = repr(settings)
    assert settings.password not in text and settings.client_secret not in text
    token = Token("bearer-value-xyz", 12.0)
    assert "bearer-value-xyz" not in repr(token) and "bearer-value-xyz" not in str(token)
