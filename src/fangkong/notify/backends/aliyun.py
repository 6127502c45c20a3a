"""Aliyun SMS (阿里云短信服务): Dysmsapi ``SendBatchSms`` (version 2017-05-25), RPC signature V1.

One request carries up to 100 numbers of one template, each with its own signature and
parameters, and is accepted or refused as a whole (one ``BizId`` for the batch).

Signing (Aliyun "Signature mechanism" for RPC APIs): every parameter but ``Signature`` is
sorted by name, names and values percent-encoded (RFC 3986: only A–Z a–z 0–9 - _ . ~ stay,
space is %20), joined as ``k=v&k=v``; the string to sign is
``POST&%2F&`` + percent-encode(that string), and the signature is
Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings

from fangkong.notify.backends.base import FAILED, SENT, UNKNOWN, BaseBackend, Outgoing, Result, all_as
from fangkong.notify.backends.http import MaybeSent, NotSent, post
from fangkong.notify.templates import TEMPLATES

API_VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    return quote(value, safe="~")


def string_to_sign(params: Mapping[str, str], *, method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(params: Mapping[str, str], *, secret: str, method: str = "POST") -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method=method).encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def aliyun_number(phone: str) -> str:
    """Mainland numbers as 11 digits; others as country code and number, without the +."""
    return phone.removeprefix("+")


class AliyunBackend(BaseBackend):
    name = "aliyun"
    max_batch = 100  # SendBatchSms: at most 100 numbers per request

    def __init__(self) -> None:
        self.config: dict[str, Any] = settings.FANGKONG_SMS_ALIYUN
        self.timeout = settings.FANGKONG_SMS_TIMEOUT

    def request_params(self, messages: Sequence[Outgoing], *, code: str) -> dict[str, str]:
        """The signed form of one ``SendBatchSms`` request for ``messages`` (one template)."""
        template = TEMPLATES[messages[0].template]
        params = {
            "AccessKeyId": self.config["access_key_id"],
            "Action": "SendBatchSms",
            "Format": "JSON",
            "RegionId": self.config["region"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
            "PhoneNumberJson": _json([aliyun_number(m.phone) for m in messages]),
            "SignNameJson": _json([settings.FANGKONG_SMS_SIGNATURE] * len(messages)),
            "TemplateCode": code,
            "TemplateParamJson": _json([{k: m.params[k] for k in template.params} for m in messages]),
        }
        params["Signature"] = signature(params, secret=self.config["access_key_secret"])
        return params

    def send(self, messages: Sequence[Outgoing]) -> list[Result]:
        if not messages:
            return []
        code = TEMPLATES[messages[0].template].code(self.name)
        if not code:
            return all_as(
                messages, FAILED, error="config: no Aliyun template code for " + messages[0].template
            )
        params = self.request_params(messages, code=code)
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items()).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        try:
            reply = post(self.config["endpoint"], body=body, headers=headers, timeout=self.timeout)
        except NotSent as error:
            return all_as(messages, FAILED, error=f"transport: {error}")
        except MaybeSent as error:
            return all_as(messages, UNKNOWN, error=f"transport: {error}")
        try:
            answer = json.loads(reply.body)
            answer_code = str(answer.get("Code", ""))
        except (ValueError, AttributeError):
            answer, answer_code = {}, ""
        if reply.status == 200 and answer_code == "OK":
            return all_as(messages, SENT, batch_id=str(answer.get("BizId", "")))
        if reply.status >= 500 or (reply.status < 400 and not answer_code):
            # the server broke, or answered what we cannot read: it may have sent them
            return all_as(messages, UNKNOWN, error=f"HTTP {reply.status}: {reply.body[:200]!r}")
        if not answer_code:  # a 4xx without a code: refused before it was read
            return all_as(messages, FAILED, error=f"HTTP {reply.status}")
        return all_as(messages, FAILED, error=f"{answer_code}: {answer.get('Message', '')}")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
