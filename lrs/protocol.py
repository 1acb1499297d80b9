"""uvicorn's HTTP protocol (httptools), answering requests that are not valid HTTP in the
LRS's own error shape.

A request whose framing cannot be parsed (an empty or doubled Content-Length, both
Content-Length and Transfer-Encoding, a control character in a header, a malformed request
line; RFC 9112 §6.3: a server that cannot determine a message's length answers 400 and
closes the connection) never reaches the application: uvicorn answers it itself, 400
with the plain text "Invalid HTTP request received.". Here it is answered like every
other client error, JSON `{"error": {"status": 400, "message": …}}` naming what the parser
found wrong, and the connection is closed as uvicorn closes it (the rest of the stream
cannot be trusted).
`lrs serve` runs uvicorn with this protocol (`http=HttpProtocol`).
"""

from __future__ import annotations

from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol


class _RecordingParser:
    """The httptools parser, remembering why it refused the data it was fed."""

    def __init__(self, parser: httptools.HttpRequestParser, protocol: HttpProtocol) -> None:
        self._parser = parser
        self._protocol = protocol

    def feed_data(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            raise
        except httptools.HttpParserError as exc:
            self._protocol.parse_problem = str(exc)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class HttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose 400 for an unparseable request is the LRS's JSON error."""

    parse_problem = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser = _RecordingParser(self.parser, self)  # type: ignore[assignment]

    def send_400_response(self, msg: str) -> None:
        problem = self.parse_problem or msg.rstrip(".")
        body = orjson.dumps({"error": {
            "status": 400, "message": f"the request is not valid HTTP/1.1: {problem}",
            "problems": []}})
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"content-type: application/json\r\n",
                        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                        b"connection: close\r\n", b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()
