"""The aiohttp web app: health checks, calendar feeds and (later) webhooks."""
