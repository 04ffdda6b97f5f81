"""Typed application keys."""

import asyncio

from aiohttp import web

from helpline.bootstrap import Services
from helpline.twiml import VoiceTwiml

SERVICES = web.AppKey("services", Services)
TWIML = web.AppKey("twiml", VoiceTwiml)
MESSAGE_STATUS_GATE = web.AppKey("message_status_gate", asyncio.Semaphore)
