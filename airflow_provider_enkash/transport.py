"""Moved to :mod:`airflow_provider_enkash._client.transport`; this path keeps working."""

from __future__ import annotations

from airflow_provider_enkash._client.transport import (
    USER_AGENT,
    HTTPResponse,
    Secrets,
    TokenRejected,
    card_request,
    check_status,
    connection_error,
    encode_body,
    may_have_been_sent,
    parse_retry_after,
    post,
    read_envelope,
    redirect_error,
)

__all__ = [
    "HTTPResponse",
    "Secrets",
    "TokenRejected",
    "USER_AGENT",
    "card_request",
    "check_status",
    "connection_error",
    "encode_body",
    "may_have_been_sent",
    "parse_retry_after",
    "post",
    "read_envelope",
    "redirect_error",
]
