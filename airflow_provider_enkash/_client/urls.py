"""Where credentials may go: URL checks with the parser requests connects with, the token URL, TLS.

Credentials go to the configured hosts only (DESIGN.md decision 8): ``http://`` only for loopback
hosts unless the connection allows it, no embedded credentials, no ambiguous characters, and a
loopback API host never sends the password to a non-loopback token URL.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import threading
from typing import Any

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from airflow_provider_enkash._client.operations import DEFAULT_TOKEN_URL, TOKEN_PATH
from airflow_provider_enkash.exceptions import EnKashConfigError

log = logging.getLogger(__name__)


def bool_or_none(value: Any) -> bool | None:
    """``value`` as a bool when it is one or a true/false word (forms save text), else None."""
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    return True if word in _TRUE_WORDS else False if word in _FALSE_WORDS else None


_TRUE_WORDS, _FALSE_WORDS = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def is_loopback(host: str | None) -> bool:
    if host in (None, ""):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_USERINFO_RE = re.compile(r"(?<=//)[^/?#]*@")


def shown_url(url: str) -> str:
    """``url`` safe for a message or log: anything before an ``@`` in the authority (a credential) replaced."""
    return _USERINFO_RE.sub("***@", url)


def check_url(url: Any, *, name: str, allow_insecure_http: bool) -> str:
    """Return ``url`` without a trailing ``/`` once it is unambiguous to every parser; else raise naming ``name``.

    Parsed with urllib3's ``parse_url``, the parser requests connects with, so the host checked here is
    the host the request goes to. Refused: backslashes, whitespace and control characters (parsers
    disagree about them), embedded credentials (``user:pass@``), query strings and fragments.
    """
    if not isinstance(url, str):
        raise EnKashConfigError(f"{name} must be a URL string, got {type(url).__name__}")
    for char, why in (
        ("\\", "a backslash"),
        ("@", "embedded credentials (user:password@); put them in login/password"),
    ):
        if char in url:
            raise EnKashConfigError(f"{name} must not contain {why}: {shown_url(url)!r}")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise EnKashConfigError(
            f"{name} must not contain whitespace or control characters: {shown_url(url)!r}"
        )
    try:
        parts = parse_url(url)
    except LocationParseError:
        raise EnKashConfigError(f"{name} is not a valid URL: {url!r}") from None
    if parts.scheme not in ("https", "http") or not parts.host:
        raise EnKashConfigError(f"{name} must be an absolute https:// URL, got {url!r}")
    if parts.query is not None or parts.fragment is not None:
        raise EnKashConfigError(f"{name} must not have a query string or fragment (? or #), got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.host):
        raise EnKashConfigError(
            f"{name} uses http:// for non-loopback host {parts.host!r}; use https:// "
            "or set the extra allow_insecure_http=true"
        )
    return url.rstrip("/")


_unverified_warned: set[str] = set()
_warn_lock = threading.Lock()


def as_verify(extras: dict[str, Any], *, base_url: str) -> bool | str:
    """``verify``: true, false (also as text, as the form saves it) or the path of a CA bundle file or directory.

    With verification off, a warning is logged once per process and API host.
    """
    verify: Any = extras.get("verify", True)
    as_bool = bool_or_none(verify)
    if as_bool is not None:
        verify = as_bool
    elif isinstance(verify, str):
        verify = verify.strip()
        if not os.path.exists(verify):
            raise EnKashConfigError(
                f"extra 'verify' names no existing CA bundle file or directory: {verify!r}"
            )
    if not isinstance(verify, (bool, str)):
        raise EnKashConfigError(f"extra 'verify' must be true, false or a CA bundle path, got {verify!r}")
    checked: bool | str = verify
    if checked is True:  # the CA bundle requests would take from the environment
        checked = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    if checked is False:
        with _warn_lock:
            first = base_url not in _unverified_warned
            _unverified_warned.add(base_url)
        if first:
            log.warning(
                "TLS certificate verification is OFF for %s (extra verify=false): use only for testing",
                base_url,
            )
    return checked


def token_url(extras: dict[str, Any], *, base_url: str, allow_insecure_http: bool) -> str:
    """The OAuth token URL: the ``auth_url`` extra; unset, the sandbox's on a loopback host, else the UAT one.

    A loopback API host (the sandbox) with a non-loopback token URL is refused: the partner
    password and client secret would leave the machine for a host nobody meant to call.
    """
    apiis_loopback = is_loopback(parse_url(base_url).host)
    default = base_url + TOKEN_PATH if apiis_loopback else DEFAULT_TOKEN_URL
    url = check_url(
        extras.get("auth_url") or default, name="extra 'auth_url'", allow_insecure_http=allow_insecure_http
    )
    if apiis_loopback and not is_loopback(parse_url(url).host):
        raise EnKashConfigError(
            f"extra 'auth_url' points at {parse_url(url).host!r} while the API host is loopback (a sandbox): "
            "the credentials would go to an external host; set auth_url to the sandbox's "
            f"{base_url + TOKEN_PATH} or leave it empty"
        )
    return url
