"""``enkash-probe``: find the settings a real EnKash account needs, without sending a single write.

Run once against UAT (``enkash-probe --conn-id enkash_default`` or
``python -m airflow_provider_enkash.probe``). It makes one token call, never repeated
after a refusal (three failed logins lock the account), then read-only calls only:
Get Card Account Details and a transaction search over the last days. From those
answers alone it detects whether responses are encrypted and which key derivation
opens them, the envelope spelling, the request date format the server accepts, the
status words, timestamp formats and reference field of the records, whether the
search honours filters and paging, ``recordsCount`` and the largest response. It
prints a plain report and the recommended connection extras as JSON, and exits 1
when the connection cannot work (2 for a connection that does not even parse).

``EnKashHook.test_connection()`` runs the first two steps (token, card account).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_enkash.crypto import KEY_DERIVATIONS
from airflow_provider_enkash.exceptions import (
    EnKashConfigError,
    EnKashError,
    EnKashHTTPError,
    EnKashLoginRefused,
    EnKashUnexpectedResponse,
)
from airflow_provider_enkash.export.timestamps import parse_timestamp
from airflow_provider_enkash.hooks.card_api import format_txn_date, records_of
from airflow_provider_enkash.probe_findings import (
    classify_statuses,
    record_id,
    reference_fields,
    status_words,
    timestamp_formats,
)
from airflow_provider_enkash.probe_wire import ProbeStopped, ProbeWire
from airflow_provider_enkash.statuses import UNKNOWN_STATUS

DEFAULT_DAYS = 7
NO_SUCH_REFERENCE = "ENKASH-PROBE-NO-SUCH-REFERENCE"
_REQUEST_DATE_FORMATS = ("millis", "seconds")


@dataclass
class ProbeReport:
    """What the probe saw: findings in order, the recommended extras, whether the connection works."""

    lines: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    works: bool = False

    def note(self, text: str) -> None:
        self.lines.append(text)

    def render(self) -> str:
        verdict = "the connection works" if self.works else "the connection cannot work as configured"
        return "\n".join(
            [
                "EnKash probe (read-only; one token call)",
                *(f"- {line}" for line in self.lines),
                f"Result: {verdict}.",
            ]
        )


class Probe:
    """Runs the probe's steps with one hook; only READ operations are ever sent.

    :param hook: an :class:`~airflow_provider_enkash.hooks.enkash.EnKashHook` (its connection is probed).
    :param days: how far back the transaction search looks (default 7).
    """

    def __init__(self, hook: Any, *, days: int = DEFAULT_DAYS) -> None:
        self.hook = hook
        self.days = days
        self.largest = 0  # most records in one search answer
        self.cap: int | None = None  # records per answer when recordsCount says more matched
        self.words: Counter[str] = Counter()  # status words seen
        self.references: Counter[str] = Counter()  # reference fields seen on credits

    def run(self, *, full: bool = True) -> ProbeReport:
        """Token, card account and (when ``full``) the transaction search; never raises for an API answer."""
        report = ProbeReport()
        s = self.hook.settings
        wire = ProbeWire(
            self.hook,
            encrypt=s.encrypt_requests,
            key_derivation=s.key_derivation,
            date_format=s.request_date_format,
        )
        try:
            self._login(report)
            self._account(report, wire)
            if full:
                self._search(report, wire)
        except ProbeStopped as exc:
            report.note(f"STOPPED: {exc}")
            return report
        report.works = True
        report.extras = self._extras(report, wire)
        return report

    def _login(self, report: ProbeReport) -> None:
        s = self.hook.settings
        try:
            self.hook.get_token()
        except EnKashLoginRefused as exc:
            raise ProbeStopped(
                f"the login was refused (HTTP {exc.status}) and is NOT tried again: three failed logins in a row "
                "lock the partner account. Check login (partner mobile), password, client_id, client_secret, "
                f"auth_url ({s.token_url}) and basic_auth (now {s.basic_auth!r}; the portal's example sends "
                "empty credentials, basic_auth=empty; some servers want none)"
            ) from None
        except EnKashError as exc:
            raise ProbeStopped(f"the token call failed: {exc}") from None
        report.note(f"login: token issued by {s.token_url} (basic_auth={s.basic_auth})")

    def _account(self, report: ProbeReport, wire: ProbeWire) -> None:
        """Get Card Account Details, trying other request encodings only when the server cannot read ours."""
        s = self.hook.settings
        keyable = [d for d in KEY_DERIVATIONS if d != "raw" or len(s.client_secret.encode("utf-8")) == 16]
        encodings = [(wire.encrypt, wire.key_derivation)]
        encodings += [(True, d) for d in keyable if (True, d) not in encodings]
        encodings += [(False, s.key_derivation)] if (False, s.key_derivation) not in encodings else []
        refusal: EnKashHTTPError | None = None
        for encrypt, derivation in encodings:
            wire.encrypt, wire.key_derivation = encrypt, derivation
            try:
                envelope = wire.read("get_card_account_details", {})
                break
            except EnKashHTTPError as exc:
                if exc.status not in (400, 422):
                    raise ProbeStopped(
                        f"get_card_account_details: {exc} (partner_id or the API host?)"
                    ) from None
                refusal = exc
            except EnKashError as exc:
                raise ProbeStopped(f"get_card_account_details: {exc}") from None
        else:
            raise ProbeStopped(f"no request encoding was accepted; last answer: {refusal}")
        spelling = "code/message" if "code" in envelope else "response_code/response_message"
        sealed = "encrypted" if wire.responses_encrypted else "plaintext"
        report.note(
            f"card account {s.card_account_id} read: requests {'encrypted' if wire.encrypt else 'plaintext'}, "
            f"responses {sealed}, key derivation {wire.key_derivation}, envelope {spelling}"
        )

    def _search(self, report: ProbeReport, wire: ProbeWire) -> None:
        now = datetime.now(UTC)
        window = (now - timedelta(days=self.days), now)
        first = self._search_with_date_formats(window, wire)
        records, count = first["data"], first["recordsCount"]
        report.note(
            f"transaction search over the last {self.days} days (txnDateFrom/To as {wire.date_format}): "
            f"{len(records)} records returned, recordsCount {count}"
        )
        if count > len(records):
            report.note(
                f"recordsCount {count} > {len(records)} returned: the search caps a response at {len(records)}"
            )
            self.cap = len(records)
        elif records:
            self._split_check(report, window, wire, records)
        if not records:
            report.note(
                "no transactions in the window: status words, timestamps, references and paging not checked"
            )
            return
        for name, formats in timestamp_formats(records).items():
            report.note(f"{name} formats: " + ", ".join(f"{fmt} x{n}" for fmt, n in formats.most_common()))
        self.words = status_words(records)
        report.note("status words: " + ", ".join(f"{w} x{n}" for w, n in self.words.most_common()))
        self.references = reference_fields(records)
        report.note(
            "references on credits: "
            + (", ".join(f"{f} x{n}" for f, n in self.references.most_common()) or "no reference field found")
        )
        self._filters_and_paging(report, window, wire, records)
        report.note(f"largest response: {self.largest} records")

    def _split_check(
        self,
        report: ProbeReport,
        window: tuple[datetime, datetime],
        wire: ProbeWire,
        records: list[dict[str, Any]],
    ) -> None:
        """Search the window in two parts, split just after the last record returned: if the parts hold
        more records than the whole did, the whole was capped (even though ``recordsCount`` said nothing)."""
        whole = len(records)
        split = window[0] + (window[1] - window[0]) / 2
        try:
            last = parse_timestamp(
                records[-1].get("txnDate"), local_tz=ZoneInfo(self.hook.settings.response_timezone)
            )
        except (ValueError, TypeError):
            last = None
        if last is not None and window[0] < last + timedelta(milliseconds=500) < window[1]:
            split = last + timedelta(milliseconds=500)  # between records at second precision
        try:
            parts = [
                len(self._search_once(part, wire)["data"])
                for part in ((window[0], split), (split, window[1]))
            ]
        except EnKashError as exc:
            report.note(f"cap check refused: {exc}")
            return
        if sum(parts) > whole:
            report.note(
                f"the window split in two returned {parts[0]} + {parts[1]} records, more than the {whole} of the "
                f"whole (whose recordsCount said nothing more): the search caps a response at {whole}"
            )
            self.cap = whole
        elif whole % 100 == 0:
            report.note(f"{whole} records is a round number: possibly a cap; use smaller windows")

    def _search_once(
        self, window: tuple[datetime, datetime], wire: ProbeWire, **filters: Any
    ) -> dict[str, Any]:
        payload = {
            "txnDateFrom": format_txn_date(window[0], field="txnDateFrom", date_format=wire.date_format),
            "txnDateTo": format_txn_date(window[1], field="txnDateTo", date_format=wire.date_format),
            **filters,
        }
        envelope = wire.read("get_all_transactions", payload)
        try:
            result = records_of(envelope.get("payload"), operation="get_all_transactions")
        except EnKashUnexpectedResponse as exc:
            raise ProbeStopped(str(exc)) from None
        self.largest = max(self.largest, len(result["data"]))
        return result

    def _search_with_date_formats(self, window: tuple[datetime, datetime], wire: ProbeWire) -> dict[str, Any]:
        for date_format in (wire.date_format, *(f for f in _REQUEST_DATE_FORMATS if f != wire.date_format)):
            wire.date_format = date_format
            try:
                return self._search_once(window, wire)
            except EnKashHTTPError as exc:
                if exc.status not in (400, 422) or "txnDate" not in str(exc):
                    raise ProbeStopped(f"get_all_transactions: {exc}") from None
            except EnKashError as exc:
                raise ProbeStopped(f"get_all_transactions: {exc}") from None
        raise ProbeStopped(
            f"get_all_transactions: no date format ({', '.join(_REQUEST_DATE_FORMATS)}) was accepted"
        )

    def _filters_and_paging(
        self,
        report: ProbeReport,
        window: tuple[datetime, datetime],
        wire: ProbeWire,
        records: list[dict[str, Any]],
    ) -> None:
        try:
            unmatched = self._search_once(window, wire, pgReferenceNumbers=[NO_SUCH_REFERENCE])["data"]
            report.note(
                "filters honoured (a reference that does not exist matched nothing)"
                if not unmatched
                else f"filters IGNORED: a reference that does not exist matched {len(unmatched)} records; "
                "reference look-ups cannot prove a load absent, loads will stop as unclear instead of resending"
            )
            if len(records) < 2:
                report.note("paging not checked (fewer than 2 records)")
                return
            page0 = self._search_once(window, wire, page=0, size=1)["data"]
            page1 = self._search_once(window, wire, page=1, size=1)["data"]
        except EnKashError as exc:
            report.note(f"filter/paging check refused: {exc}")
            return
        if len(page0) == 1 and len(page1) == 1 and record_id(page0[0]) != record_id(page1[0]):
            report.note("paging honoured (page/size)")
        else:
            report.note(
                f"paging IGNORED (size=1 returned {len(page0)} records); exports bisect time windows instead"
            )

    def _extras(self, report: ProbeReport, wire: ProbeWire) -> dict[str, Any]:
        s = self.hook.settings
        extras: dict[str, Any] = {
            "basic_auth": s.basic_auth,
            "encrypt_requests": wire.encrypt,
            "key_derivation": wire.key_derivation,
            "request_date_format": wire.date_format,
            "response_timezone": s.response_timezone,
        }
        if self.references:
            extras["reference_fields"] = [name for name, _ in self.references.most_common()]
        if self.cap:
            extras["search_cap"] = self.cap
        if self.words:
            sets = classify_statuses(self.words, s.statuses)
            known = {s.statuses.classify(word) for word in self.words}
            if UNKNOWN_STATUS in known:
                report.note(
                    "status words unknown to the connection, sorted by spelling (check with EnKash): "
                    + ", ".join(sorted(w for w in self.words if s.statuses.classify(w) == UNKNOWN_STATUS))
                )
            extras.update(
                success_statuses=sets["success"],
                failure_statuses=sets["failure"],
                pending_statuses=sets["pending"],
            )
        return extras


def main(argv: list[str] | None = None) -> int:
    """Probe a connection, print the report and the recommended extras; 0 works, 1 cannot work, 2 bad connection."""
    parser = argparse.ArgumentParser(prog="enkash-probe", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conn-id", default="enkash_default", help="Airflow connection of type enkash")
    parser.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, help="how far back the transaction search looks"
    )
    args = parser.parse_args(argv)
    from airflow_provider_enkash.hooks.enkash import EnKashHook

    hook = EnKashHook(args.conn_id)
    try:
        _ = hook.settings
    except (EnKashConfigError, AirflowNotFoundException) as exc:
        print(f"enkash-probe: connection {args.conn_id!r} is not usable: {exc}", file=sys.stderr)
        return 2
    report = Probe(hook, days=args.days).run()
    print(report.render())
    if report.works:
        print("Recommended connection extras (merge into the connection's extra):")
        print(json.dumps(report.extras, sort_keys=True))
    return 0 if report.works else 1


if __name__ == "__main__":
    sys.exit(main())
