"""``onnx-lambda serve``'s server: a loopback stand-in for API Gateway; each HTTP request becomes an HTTP API
payload-2.0 event.

What ``sam local start-api`` does, without Docker: the event goes to the real
``handler.entrypoint.lambda_handler`` with a Lambda-like context, and its response (base64 bodies
decoded) goes back to the client. One worker thread plays one Lambda instance, so requests are served
one at a time as Lambda would, while connections are accepted concurrently. A development tool: it lives
in the command line's package, so the image (which copies ``handler/`` whole) never holds it.
"""

from __future__ import annotations

import json
import signal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from handler.http_events import http_api_event
from handler.lambda_instance import LambdaInstance

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # HTTP API refuses larger payloads before Lambda sees them
JSON = {"content-type": "application/json"}


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """Turns one HTTP request into an event and the handler's response back into HTTP."""

    protocol_version = "HTTP/1.1"
    # TCP_NODELAY: headers and body are two writes, and with Nagle's algorithm the body of a keep-alive answer waited
    # for the client's delayed ACK of the headers (~40 ms a request).
    disable_nagle_algorithm = True
    server: GatewayServer

    def _serve(self) -> None:
        length = self._content_length()
        if length is None:
            return
        if length > API_GATEWAY_MAX_BODY:
            self._reply(413, JSON, b'{"error": "request body over 10 MB"}', True)
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client stopped sending: a cut body must not be served as if whole
            message = json.dumps({"error": f"the body ended after {len(body)} of its {length} bytes (content-length)"})
            self._reply(400, JSON, message.encode(), True)
            return
        prefix = f"/{self.server.stage}"
        if self.server.stage != "$default" and not (
            self.path == prefix or self.path.startswith((prefix + "/", prefix + "?"))
        ):
            message = json.dumps({"error": f"not found: this API is served under the stage path {prefix}/"})
            self._reply(404, JSON, message.encode(), False)
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        event = http_api_event(
            self.command,
            target=self.path,
            headers=headers,
            body=body,
            stage=self.server.stage,
            source_ip=self.client_address[0],
        )
        answer = self.server.instance.answer(event)
        self._reply(answer.status, answer.headers, answer.body, False, answer.cookies)

    def _content_length(self) -> int | None:
        """The declared body length, or None after refusing one that is not a length (as API Gateway would:
        reading a negative length would wait for the client to close, a chunked body is not supported)."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._reply(411, JSON, b'{"error": "chunked request bodies are not supported: send content-length"}', True)
            return None
        values = {value.strip() for value in self.headers.get_all("content-length") or ["0"]}
        if len(values) > 1:  # which one frames the body is ambiguous: the way requests get smuggled past a proxy
            message = json.dumps({"error": f"content-length is given {len(values)} different values: expected one"})
            self._reply(400, JSON, message.encode(), True)
            return None
        declared = values.pop()
        if not (declared.isascii() and declared.isdigit()):  # str.isdigit alone takes '²', which int() refuses
            message = json.dumps({"error": f"content-length {declared!r} is not a length: expected bytes as digits"})
            self._reply(400, JSON, message.encode(), True)
            return None
        return int(declared)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a request line or headers it cannot parse) in the JSON error shape, not HTML."""
        reason = message or self.responses.get(code, ("error",))[0]
        self._reply(code, JSON, json.dumps({"error": f"malformed HTTP request: {reason}"}).encode(), True)

    def _reply(self, status: int, headers: dict[str, str], data: bytes, close: bool, cookies: list[str] = []) -> None:  # noqa: B006
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(key, value)
        for cookie in cookies:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(data)))
        if close:
            self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        """``do_<METHOD>`` for every method, TRACE and QUERY too: the function answers 405 where no route takes
        it, as behind a $default route; http.server alone would answer 501 in HTML."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet by default: the handler's own JSON logs say what happened."""


class GatewayServer(ThreadingHTTPServer):
    """The listening socket plus the instance and stage every request shares."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], instance: LambdaInstance, stage: str) -> None:
        super().__init__(address, GatewayRequestHandler)
        self.instance = instance
        self.stage = stage


def serve(host: str, port: int, stage: str) -> None:
    """Serve until Ctrl-C; prints the URL once the model is loaded (INIT) and the socket listens. Raises OSError
    when the address cannot be listened on."""
    # Ctrl-C (SIGINT) is how it stops, even when started with SIGINT ignored: a script's `onnx-lambda serve &` (a
    # non-interactive shell's background job) or a parent that ignores it would otherwise leave no way but SIGKILL.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    server = GatewayServer((host, port), LambdaInstance(), stage)
    prefix = "" if stage == "$default" else f"/{stage}"
    bound, bound_port = server.server_address[:2]
    bound = bound.decode() if isinstance(bound, bytes) else bound
    print(f"onnx-lambda local gateway listening on http://{bound}:{bound_port}{prefix} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
