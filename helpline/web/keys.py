"""Typed application keys."""

from aiohttp import web

from helpline.bootstrap import Services

SERVICES = web.AppKey("services", Services)
