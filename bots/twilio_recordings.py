"""Deleting voicemail recordings through Twilio's REST API (`routing.ports.RecordingStore`)."""

from __future__ import annotations

from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from bots.twilio_sms import TwilioRestAdapter
from routing.ports import ChannelError

NOT_FOUND = 404


class TwilioRecordings(TwilioRestAdapter):
    """`DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json` with the official
    client. A recording Twilio no longer has (404) counts as deleted; anything else that
    fails raises `ChannelError`, and the caller keeps the recording's URL to try again."""

    def _recordings(self) -> Any:
        return self._account().recordings

    async def delete_recording(self, sid: str) -> None:
        """Delete recording `sid` at Twilio for good."""
        try:
            await self._recordings()(sid).delete_async()
        except (TwilioRestException, TwilioServiceException) as exc:
            status = int(exc.status)
            if status == NOT_FOUND:
                return
            raise ChannelError(
                f"Twilio refused to delete recording {sid}: HTTP {status}, Twilio error {exc.code}",
                retryable=status == 429 or status >= 500,
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(
                f"Twilio could not be reached to delete recording {sid}: {type(exc).__name__}",
                retryable=True,
            ) from exc
