"""Tencent Cloud SMS (腾讯云短信): ``SendSms`` (version 2021-01-11), signature v3 (TC3-HMAC-SHA256).

One request carries up to 200 numbers, all with the same template parameters (a positional
``TemplateParamSet``), so the messages of a batch are grouped by their parameters (and a number
appears once per request, since the answer names each number's outcome by the number). The
answer has one entry per number (``SendStatusSet``: ``Code`` "Ok" or why not), or an ``Error``
for the whole request.

Signing (Tencent Cloud API "Signature v3"):
- canonical request = ``POST\\n/\\n\\n`` + canonical headers (``content-type``, ``host``,
  ``x-tc-action`` lower-cased, each ``name:value\\n``) + ``\\n`` + signed header names
  (``content-type;host;x-tc-action``) + ``\\n`` + hex SHA-256 of the body;
- string to sign = ``TC3-HMAC-SHA256\\n{timestamp}\\n{date}/sms/tc3_request\\n`` + hex SHA-256 of
  the canonical request (``date``: the UTC day of the timestamp);
- key = HMAC-SHA256 chain of "TC3" + SecretKey over date, service ("sms"), "tc3_request";
  signature = hex HMAC-SHA256(key, string to sign).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from fangkong.notify.backends.base import FAILED, SENT, UNKNOWN, BaseBackend, Outgoing, Result, all_as
from fangkong.notify.backends.http import MaybeSent, NotSent, host_of, post
from fangkong.notify.templates import TEMPLATES

SERVICE, ACTION, API_VERSION = "sms", "SendSms", "2021-01-11"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"
# Error codes of a whole request after which the messages may still have gone out.
UNCERTAIN_ERRORS = {"InternalError", "InternalError.Timeout", "InternalError.SendAndRecvFail"}


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def authorization(*, secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int) -> str:
    """The ``Authorization`` header of a ``SendSms`` request with body ``payload``."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-tc-action:{ACTION.lower()}\n"
    canonical_request = "\n".join(
        ["POST", "/", "", canonical_headers, SIGNED_HEADERS, hashlib.sha256(payload).hexdigest()]
    )
    scope = f"{day}/{SERVICE}/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), SERVICE), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"


def tencent_number(phone: str) -> str:
    """E.164, as Tencent wants it (+86 for mainland mobiles)."""
    return phone if phone.startswith("+") else f"+86{phone}"


def requests_of(messages: Sequence[Outgoing]) -> list[list[Outgoing]]:
    """``messages`` grouped so that one request has one parameter set and each number once."""
    groups: list[tuple[tuple[str, ...], set[str], list[Outgoing]]] = []
    for message in messages:
        key = tuple(message.params[k] for k in TEMPLATES[message.template].params)
        for group_key, numbers, members in groups:
            if group_key == key and message.phone not in numbers:
                numbers.add(message.phone)
                members.append(message)
                break
        else:
            groups.append((key, {message.phone}, [message]))
    return [members for _key, _numbers, members in groups]


class TencentBackend(BaseBackend):
    name = "tencent"
    max_batch = 200  # SendSms: at most 200 numbers per request

    def __init__(self) -> None:
        self.config: dict[str, Any] = settings.FANGKONG_SMS_TENCENT
        self.timeout = settings.FANGKONG_SMS_TIMEOUT

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        if not messages:
            return []
        code = TEMPLATES[messages[0].template].code(self.name)
        if not code:
            return all_as(
                messages, FAILED, error="config: no Tencent template id for " + messages[0].template
            )
        results: list[Result] = []
        for group in requests_of(messages):
            results.extend(self._send_one(group, code=code))
        return results

    def request(
        self, messages: Sequence[Outgoing], *, code: str, timestamp: int
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one ``SendSms`` request (messages with equal parameters)."""
        template = TEMPLATES[messages[0].template]
        payload = json.dumps(
            {
                "PhoneNumberSet": [tencent_number(m.phone) for m in messages],
                "SmsSdkAppId": self.config["sdk_app_id"],
                "SignName": settings.FANGKONG_SMS_SIGNATURE,
                "TemplateId": code,
                "TemplateParamSet": [messages[0].params[k] for k in template.params],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        host = host_of(self.config["endpoint"])
        headers = {
            "Authorization": authorization(
                secret_id=self.config["secret_id"],
                secret_key=self.config["secret_key"],
                host=host,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": ACTION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self.config["region"],
        }
        return payload, headers

    def _send_one(self, messages: Sequence[Outgoing], *, code: str) -> list[Result]:
        payload, headers = self.request(messages, code=code, timestamp=int(time.time()))
        try:
            reply = post(self.config["endpoint"], body=payload, headers=headers, timeout=self.timeout)
        except NotSent as error:
            return all_as(messages, FAILED, error=f"transport: {error}")
        except MaybeSent as error:
            return all_as(messages, UNKNOWN, error=f"transport: {error}")
        try:
            answer = json.loads(reply.body)["Response"]
        except (ValueError, KeyError, TypeError):
            answer = None
        if reply.status != 200 or not isinstance(answer, dict):
            status = FAILED if 400 <= reply.status < 500 else UNKNOWN
            return all_as(messages, status, error=f"HTTP {reply.status}: {reply.body[:200]!r}")
        request_id = str(answer.get("RequestId", ""))
        if "Error" in answer:
            error_code = str(answer["Error"].get("Code", ""))
            status = UNKNOWN if error_code in UNCERTAIN_ERRORS else FAILED
            message = answer["Error"].get("Message", "")
            return all_as(messages, status, error=f"{error_code}: {message}", batch_id=request_id)
        by_number = {str(s.get("PhoneNumber", "")): s for s in answer.get("SendStatusSet") or []}
        results = []
        for m in messages:
            entry = by_number.get(tencent_number(m.phone))
            if entry is None:
                results.append(Result(m.id, UNKNOWN, batch_id=request_id, error="no status for this number"))
            elif entry.get("Code") == "Ok":
                results.append(
                    Result(m.id, SENT, batch_id=request_id, message_id=str(entry.get("SerialNo", "")))
                )
            else:
                reason = f"{entry.get('Code', '')}: {entry.get('Message', '')}"
                results.append(Result(m.id, FAILED, batch_id=request_id, error=reason))
        return results
