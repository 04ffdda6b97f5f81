"""Typed application keys."""

from aiohttp import web

from helpline.bootstrap import Services
from helpline.twiml import VoiceTwiml

SERVICES = web.AppKey("services", Services)
TWIML = web.AppKey("twiml", VoiceTwiml)
