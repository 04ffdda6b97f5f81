"""The forms Twilio posts to the service's webhooks, as the simulator, the benchmarks and
the tests send them (sign them with `helpline.twilio_signing`)."""

from __future__ import annotations

import uuid

#: The account SID sent in sandbox mode (the shape of a real one: AC + 32 hex digits).
SANDBOX_ACCOUNT_SID = "AC" + "0" * 32
API_VERSION = "2010-04-01"


def random_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def call_params(
    call_sid: str,
    caller: str,
    called: str,
    account_sid: str = SANDBOX_ACCOUNT_SID,
    direction: str = "inbound",
) -> dict[str, str]:
    """What Twilio sends with every webhook of a call leg, but its CallStatus."""
    return {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "From": caller,
        "To": called,
        "Caller": caller,
        "Called": called,
        "Direction": direction,
    }


def incoming_call(
    call_sid: str, caller: str, called: str, account_sid: str = SANDBOX_ACCOUNT_SID
) -> dict[str, str]:
    """The form Twilio posts to `/twilio/voice` for a new inbound call."""
    return {**call_params(call_sid, caller, called, account_sid), "CallStatus": "ringing"}


def incoming_sms(
    message_sid: str, sender: str, to: str, body: str, account_sid: str = SANDBOX_ACCOUNT_SID
) -> dict[str, str]:
    """The form Twilio posts to `/twilio/sms` for an incoming one-segment SMS."""
    return {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "SmsMessageSid": message_sid,
        "AccountSid": account_sid,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }


def recording_params(recording_sid: str, account_sid: str, duration: int) -> dict[str, str]:
    """The parameters Twilio sends about a finished recording (its URL is made up here)."""
    path = f"{API_VERSION}/Accounts/{account_sid}/Recordings/{recording_sid}"
    return {
        "RecordingSid": recording_sid,
        "RecordingUrl": f"https://api.twilio.com/{path}",
        "RecordingDuration": str(duration),
    }
