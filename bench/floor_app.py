"""The server's own floor: a bare ASGI app answering one fixed JSON body, served by uvicorn with
the options `qconnect-local serve` uses (uvloop, the same httptools protocol class with its
connection limits, no access log, lifespan on).

    python bench/floor_app.py PORT     # prints "listening on http://127.0.0.1:PORT" when it accepts

bench/api_throughput.py loads it with the same wrk settings as each operation, in the same run.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# About a GetKnowledgeBase answer's size: the floor pays for the same bytes on the wire.
BODY = (
    b'{"knowledgeBase":{"knowledgeBaseId":"00000000-0000-4000-8000-000000000000","knowledgeBaseArn":'
    b'"arn:aws:wisdom:us-east-1:000000000000:knowledge-base/00000000-0000-4000-8000-000000000000",'
    b'"name":"bench","knowledgeBaseType":"QUICK_RESPONSES","status":"ACTIVE","tags":{},'
    b'"description":"throughput benchmark"}}'
)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    while (await receive()).get("more_body"):  # the request body, if any
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    import uvicorn

    from qconnect_local.hardening import HardeningSettings
    from qconnect_local.protocol.limits import uvicorn_options

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    sock.listen(2048)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="uvloop",
        timeout_graceful_shutdown=5,
        **uvicorn_options(HardeningSettings()),
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
