"""The service benchmarks' bare baseline: a minimal aiohttp app that reads the body of any
POST and answers a constant TwiML document of about the service's size (`bench.voice`),
and answers any other GET with an HTML page of `?bytes=N` bytes (`bench.console` asks for
each console page's size).

    .venv/bin/python -m bench.baseline PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

#: What the baseline answers: shaped and sized like the service's first-step TwiML.
BASELINE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="nb-NO" '
    'voice="Polly.Liv">Hei, du har ringt Fosterhjemstelefonen. Vi setter deg over til den '
    "som har vakt for Asker nå. Er det fare for liv eller helse, legg på og ring 113 for "
    'ambulanse eller 112 for politi.</Say><Dial action="http://127.0.0.1:8080/twilio/voice/'
    'dialled?contact=1234&amp;step=0" answerOnBridge="true" callerId="+4767000001" '
    'method="POST" timeout="20"><Number method="POST" url="http://127.0.0.1:8080/twilio/'
    'voice/screen?contact=1234&amp;step=0">+4791234567</Number></Dial></Response>'
)


#: The baseline page's size when none is asked for, and the most it serves.
BASELINE_PAGE_BYTES = 8_000
MAX_PAGE_BYTES = 4_000_000
_PAGE_HEAD = '<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Oversikt</title>'
_PAGE_BODY = "</head><body><main><h1>Oversikt</h1><p>"
_PAGE_TAIL = "</p></main></body></html>"


def baseline_page(size: int) -> bytes:
    """A constant HTML page of exactly `size` bytes (at least its frame's), UTF-8."""
    frame = (_PAGE_HEAD + _PAGE_BODY + _PAGE_TAIL).encode()
    filler = b"x" * max(0, min(size, MAX_PAGE_BYTES) - len(frame))
    return (_PAGE_HEAD + _PAGE_BODY).encode() + filler + _PAGE_TAIL.encode()


async def _baseline_page(request: web.Request) -> web.Response:
    try:
        size = int(request.query.get("bytes", BASELINE_PAGE_BYTES))
    except ValueError:
        raise web.HTTPBadRequest(text="bytes must be a whole number") from None
    return web.Response(body=baseline_page(size), content_type="text/html", charset="utf-8")


async def _baseline_answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text=BASELINE_TWIML, content_type="application/xml")


async def _baseline_health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def baseline_app() -> web.Application:
    """The bare baseline: a constant TwiML answer to any POST, an HTML page of the size
    asked for to any other GET, and `/healthz`."""
    app = web.Application()
    app.router.add_get("/healthz", _baseline_health)
    app.router.add_post("/{tail:.*}", _baseline_answer)
    app.router.add_get("/{tail:.*}", _baseline_page)
    return app


def serve_baseline(port: int) -> None:
    """Run the baseline on 127.0.0.1 until SIGTERM or SIGINT."""
    web.run_app(baseline_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    serve_baseline(int(sys.argv[1]))
