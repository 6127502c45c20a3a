"""The Aliyun and Tencent backends against a local stand-in for each provider.

The stand-in records each request, checks its signature by computing it again here (written from
the providers' documents, not with the backend's code), and answers in the provider's format:
success, a refusal, HTTP 500, or nothing in time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fangkong.notify.backends.aliyun import AliyunBackend, signature
from fangkong.notify.backends.base import FAILED, SENT, UNKNOWN, Outgoing
from fangkong.notify.backends.tencent import TencentBackend, requests_of

SECRET_ALIYUN = "testsecret"
SECRET_TENCENT = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


@dataclass
class Seen:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class Stand:
    url: str
    answer: Callable[[Seen], tuple[int, Any]]
    seen: list[Seen] = field(default_factory=list)


def aliyun_signature_ok(headers: dict[str, str], body: bytes) -> bool:
    """Aliyun RPC V1 as documented: sort, encode (urlencode, then + → %20, * → %2A, %7E → ~),
    sign ``POST&%2F&`` + encoded string with HMAC-SHA1 under secret + "&"."""
    params = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    given = params.pop("Signature", "")

    def encode(text: str) -> str:
        return urllib.parse.quote_plus(text).replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    canonical = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    to_sign = "POST&%2F&" + encode(canonical)
    digest = hmac.new((SECRET_ALIYUN + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), given)


def tencent_signature_ok(headers: dict[str, str], body: bytes) -> bool:
    """TC3-HMAC-SHA256 as documented, from the headers as received."""
    stamp = int(headers["x-tc-timestamp"])
    day = datetime.fromtimestamp(stamp, UTC).date().isoformat()
    canonical = (
        "POST\n/\n\n"
        f"content-type:{headers['content-type']}\nhost:{headers['host']}\nx-tc-action:{headers['x-tc-action'].lower()}\n"
        "\ncontent-type;host;x-tc-action\n" + hashlib.sha256(body).hexdigest()
    )
    scope = f"{day}/sms/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    key = ("TC3" + SECRET_TENCENT).encode()
    for part in (day, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    expected = f"TC3-HMAC-SHA256 Credential=AKIDtest/{scope}, SignedHeaders=content-type;host;x-tc-action, Signature={sig}"
    return hmac.compare_digest(headers.get("authorization", ""), expected)


def _serve(check: Callable[[dict[str, str], bytes], bool]) -> Iterator[Stand]:
    stand = Stand(url="", answer=lambda seen: (200, {}))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(headers=headers, body=body, signature_ok=check(headers, body))
            stand.seen.append(seen)
            status, answer = stand.answer(seen)
            if status == 0:  # hold the line past the client's timeout
                time.sleep(1.5)
                status = 200
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def aliyun(settings: Any) -> Iterator[Stand]:
    for stand in _serve(aliyun_signature_ok):
        settings.FANGKONG_SMS_ALIYUN = {
            "access_key_id": "testid",
            "access_key_secret": SECRET_ALIYUN,
            "endpoint": stand.url,
            "region": "cn-hangzhou",
            "templates": {"companion_notice": "SMS_100001", "help_ack": "SMS_100003"},
        }
        settings.FANGKONG_SMS_TIMEOUT = 0.5
        yield stand


@pytest.fixture
def tencent(settings: Any) -> Iterator[Stand]:
    for stand in _serve(tencent_signature_ok):
        settings.FANGKONG_SMS_TENCENT = {
            "secret_id": "AKIDtest",
            "secret_key": SECRET_TENCENT,
            "sdk_app_id": "1400000001",
            "endpoint": stand.url,
            "region": "ap-guangzhou",
            "templates": {"companion_notice": "1234567", "help_ack": "7654321"},
        }
        settings.FANGKONG_SMS_TIMEOUT = 0.5
        yield stand


def notice(i: int, *, phone: str | None = None, link: str = "https://fk.example.cn/r/AB12/") -> Outgoing:
    params = {"days": "3", "tests": "2", "link": link}
    return Outgoing(
        id=i, phone=phone or f"1380013{i:04d}", template="companion_notice", params=params, body="…"
    )


# --- Aliyun ---------------------------------------------------------------------------------------


def test_aliyun_signature_matches_the_documented_example():
    """The worked example of Aliyun's "Signature mechanism" page (GET, secret "testsecret")."""
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert signature(params, secret="testsecret", method="GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_sends_one_signed_batch_with_each_number_its_own_parameters(aliyun):
    aliyun.answer = lambda seen: (
        200,
        {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5"},
    )
    messages = [notice(1), notice(2, link="https://fk.example.cn/r/CD34/"), notice(3, phone="+85291234567")]
    results = AliyunBackend().send(messages)
    assert [r.status for r in results] == [SENT, SENT, SENT]
    assert {r.batch_id for r in results} == {"900619746936498440^0"}
    (request,) = aliyun.seen
    assert request.signature_ok
    form = dict(urllib.parse.parse_qsl(request.body.decode()))
    assert form["Action"] == "SendBatchSms" and form["Version"] == "2017-05-25"
    assert form["TemplateCode"] == "SMS_100001"
    assert json.loads(form["PhoneNumberJson"]) == ["13800130001", "13800130002", "85291234567"]
    assert json.loads(form["SignNameJson"]) == ["防控"] * 3
    assert json.loads(form["TemplateParamJson"])[1] == {
        "days": "3",
        "tests": "2",
        "link": "https://fk.example.cn/r/CD34/",
    }


def test_aliyun_refusal_fails_the_batch_with_its_code(aliyun):
    aliyun.answer = lambda seen: (
        200,
        {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "A1"},
    )
    results = AliyunBackend().send([notice(1), notice(2)])
    assert [r.status for r in results] == [FAILED, FAILED]
    assert results[0].error == "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"
    assert aliyun.seen[0].signature_ok


def test_aliyun_server_error_and_timeout_leave_the_outcome_unknown(aliyun):
    aliyun.answer = lambda seen: (
        500,
        {"Code": "InternalError", "Message": "The request processing has failed"},
    )
    assert [r.status for r in AliyunBackend().send([notice(1)])] == [UNKNOWN]
    aliyun.answer = lambda seen: (0, {"Code": "OK"})
    (result,) = AliyunBackend().send([notice(2)])
    assert result.status == UNKNOWN and "timed out" in result.error
    assert len(aliyun.seen) == 2


def test_aliyun_without_a_template_code_sends_nothing(aliyun):
    outgoing = Outgoing(id=1, phone="13800138000", template="self_report", params={"link": "x"}, body="…")
    (result,) = AliyunBackend().send([outgoing])
    assert result.status == FAILED and "template code" in result.error
    assert aliyun.seen == []


def test_a_refused_connection_is_a_failure_not_an_unknown(settings):
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.FANGKONG_SMS_ALIYUN = {
        "access_key_id": "testid",
        "access_key_secret": SECRET_ALIYUN,
        "endpoint": f"http://127.0.0.1:{port}/",
        "region": "cn-hangzhou",
        "templates": {"companion_notice": "SMS_1"},
    }
    (result,) = AliyunBackend().send([notice(1)])
    assert result.status == FAILED and result.error.startswith("transport: connect")


# --- Tencent --------------------------------------------------------------------------------------


def _tencent_ok(seen: Seen) -> tuple[int, Any]:
    numbers = json.loads(seen.body)["PhoneNumberSet"]
    statuses = [
        {
            "SerialNo": f"5000:{n[-4:]}",
            "PhoneNumber": n,
            "Fee": 1,
            "SessionContext": "",
            "Code": "Ok" if not n.endswith("0002") else "InvalidParameterValue.IncorrectPhoneNumber",
            "Message": "send success" if not n.endswith("0002") else "手机号格式错误",
            "IsoCode": "CN",
        }
        for n in numbers
    ]
    return 200, {"Response": {"SendStatusSet": statuses, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}}


def test_tencent_sends_signed_requests_and_reads_each_number(tencent):
    tencent.answer = _tencent_ok
    results = TencentBackend().send([notice(1), notice(2), notice(3)])
    assert [r.status for r in results] == [SENT, FAILED, SENT]
    assert results[0].message_id == "5000:0001"
    assert results[1].error == "InvalidParameterValue.IncorrectPhoneNumber: 手机号格式错误"
    (request,) = tencent.seen
    assert request.signature_ok
    assert request.headers["x-tc-action"] == "SendSms" and request.headers["x-tc-version"] == "2021-01-11"
    payload = json.loads(request.body)
    assert payload["PhoneNumberSet"] == ["+8613800130001", "+8613800130002", "+8613800130003"]
    assert payload["TemplateId"] == "1234567" and payload["SmsSdkAppId"] == "1400000001"
    assert payload["SignName"] == "防控" and payload["TemplateParamSet"] == [
        "3",
        "2",
        "https://fk.example.cn/r/AB12/",
    ]


def test_tencent_sends_one_request_per_parameter_set(tencent):
    tencent.answer = _tencent_ok
    messages = [notice(1), notice(3, link="https://fk.example.cn/r/ZZ/"), notice(4), notice(1)]
    assert [[m.id for m in group] for group in requests_of(messages)] == [[1, 4], [3], [1]]
    results = TencentBackend().send(messages)
    assert len(tencent.seen) == 3 and all(seen.signature_ok for seen in tencent.seen)
    assert [r.status for r in results] == [SENT, SENT, SENT, SENT]


def test_tencent_request_error_fails_and_timeout_or_500_is_unknown(tencent):
    tencent.answer = lambda seen: (
        200,
        {
            "Response": {
                "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "签名错误"},
                "RequestId": "r1",
            }
        },
    )
    (result,) = TencentBackend().send([notice(1)])
    assert result.status == FAILED and result.error.startswith("AuthFailure.SignatureFailure")
    tencent.answer = lambda seen: (500, b"<html>bad gateway</html>")
    assert TencentBackend().send([notice(1)])[0].status == UNKNOWN
    tencent.answer = lambda seen: (0, {})
    assert TencentBackend().send([notice(1)])[0].status == UNKNOWN
    tencent.answer = lambda seen: (
        200,
        {
            "Response": {
                "Error": {"Code": "InternalError.Timeout", "Message": "请求下发短信超时"},
                "RequestId": "r2",
            }
        },
    )
    assert TencentBackend().send([notice(1)])[0].status == UNKNOWN
