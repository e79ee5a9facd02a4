"""The secrets scan itself: it must find what it looks for, or its 'zero hits' proves nothing."""

from __future__ import annotations

from tests.e2e.secrets_scan import Needle, find_leaks, needles_from

SECRETS = {
    "password": "sandbox-password",
    "access_tokens": ["tok_aZ3-x9"],
    "card_numbers": ["4111222233334444"],
    "cvvs": ["123"],
    "pins": ["4821"],
}


def _kinds(text: str) -> list[str]:
    return [leak.kind for leak in find_leaks([("log", text)], needles_from(SECRETS, kind="sandbox"))]


def test_finds_long_secrets_anywhere() -> None:
    assert _kinds("login ok password=sandbox-password; bearer tok_aZ3-x9") == [
        "sandbox.password",
        "sandbox.access_tokens",
    ]


def test_finds_card_numbers_plain_or_grouped() -> None:
    assert _kinds("card 4111222233334444 and 4111 2222-3333 4444") == ["sandbox.card_numbers"] * 2


def test_finds_short_numbers_only_beside_a_label() -> None:
    assert _kinds("{'cvv': '123', 'PIN': 4821}") == ["sandbox.cvvs", "sandbox.pins"]
    assert _kinds("loc=task_runner.py:123 lineno 4821 pid 11234 mapping 4821") == []


def test_report_names_the_place_not_the_secret() -> None:
    (leak,) = find_leaks(
        [("task log", "token tok_aZ3-x9 sent")],
        [Needle(kind="token", value="tok_aZ3-x9")],
    )
    assert "tok_aZ3-x9" not in str(leak) and "task log" in str(leak)
