"""HttpClient against a tiny loopback server: bearer, redaction, evidence, unreachable hub."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from mojacheck.fspiop import Exchange, HttpClient, callback_headers, redact_headers
from mojacheck.fspiop.errors import HubUnreachable


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with JSON describing what it received; `/text` answers plain text."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        record = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        type(self).seen.append(record)
        if self.path == "/text":
            payload, media = b"plain words", "text/plain"
        elif self.path == "/empty":
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        else:
            payload = json.dumps({"amount": {"amount": "10.50", "currency": "USD"}, "got": record}).encode()
            media = "application/json"
        self.send_response(418 if self.path == "/teapot" else 200)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_bearer_is_sent_and_redacted(server: str) -> None:
    with HttpClient(token="s3cret") as client:
        exchange = client.request("GET", f"{server}/health")
    received = _Recorder.seen[0]["headers"]
    assert received["Authorization"] == "Bearer s3cret"
    assert exchange.request_headers["Authorization"] == "Bearer ***"
    # Our server echoes what it got into the response body; the request side must not show the token.
    assert "s3cret" not in json.dumps(exchange.request_headers)


def test_no_token_no_authorization_and_no_default_accept(server: str) -> None:
    with HttpClient() as client:
        client.request("PUT", f"{server}/quotes/1", headers=callback_headers("quotes", "b", "a"), json={})
    received = {k.lower(): v for k, v in _Recorder.seen[0]["headers"].items()}
    assert "authorization" not in received
    assert "accept" not in received  # a PUT callback must not carry Accept
    assert received["content-type"].startswith("application/vnd.interoperability.quotes+json")


def test_exchange_records_everything(server: str) -> None:
    seen: list[Exchange] = []
    with HttpClient(on_exchange=seen.append) as client:
        body = {"amount": {"amount": Decimal("10.50"), "currency": "USD"}, "name": "Zoë"}
        exchange = client.request("post", f"{server}/teapot", headers={"X-Test": "1"}, json=body)
    assert seen == [exchange]
    assert exchange.method == "POST"
    assert exchange.url == f"{server}/teapot"
    assert exchange.status == 418
    assert exchange.request_headers["X-Test"] == "1"
    assert exchange.request_headers["Content-Type"] == "application/json"
    # Decimal goes out as a string; the evidence shows what was sent.
    assert exchange.request_body == {"amount": {"amount": "10.50", "currency": "USD"}, "name": "Zoë"}
    assert json.loads(_Recorder.seen[0]["body"])["amount"]["amount"] == "10.50"
    assert exchange.response_body["amount"]["amount"] == "10.50"
    assert exchange.response_headers["content-type"] == "application/json"
    assert exchange.started.tzinfo is not None
    assert exchange.elapsed_ms >= 0


def test_text_and_empty_bodies(server: str) -> None:
    with HttpClient() as client:
        text = client.request("POST", f"{server}/text", content="raw payload")
        empty = client.request("GET", f"{server}/empty")
    assert text.response_body == "plain words"
    assert text.request_body == "raw payload"
    assert empty.status == 202
    assert empty.response_body is None
    assert empty.request_body is None


def test_closed_port_raises_hub_unreachable() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    calls: list[Exchange] = []
    url = f"http://127.0.0.1:{port}/transfers"
    with HttpClient(timeout=2.0, on_exchange=calls.append) as client, pytest.raises(HubUnreachable) as info:
        client.request("POST", url, json={})
    assert url in str(info.value)
    assert calls == []


def test_redact_headers_keeps_scheme() -> None:
    assert redact_headers({"authorization": "Basic abc", "X": "y"}) == {"authorization": "Basic ***", "X": "y"}
    assert redact_headers({"Authorization": "token"}) == {"Authorization": "***"}


def _encrypted_client_cert(tmp_path, password: bytes):
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mcpayerfsp")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(password)))
    return str(cert_file), str(key_file)


def test_encrypted_client_key_loads_with_its_password_and_fails_clearly_without(tmp_path) -> None:
    from mojacheck.fspiop.errors import FspiopError

    cert = _encrypted_client_cert(tmp_path, b"k3y-pass")
    HttpClient(cert=cert, key_password="k3y-pass").close()
    for wrong in (None, "nope"):
        with pytest.raises(FspiopError, match="client certificate"):
            HttpClient(cert=cert, key_password=wrong)
