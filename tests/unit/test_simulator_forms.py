"""The forms the simulator, the benchmarks and the tests post, shaped as Twilio's."""

from __future__ import annotations

import re

from helpline.simulator.forms import (
    SANDBOX_ACCOUNT_SID,
    call_params,
    incoming_call,
    incoming_sms,
    random_sid,
    recording_params,
)

CALLER, LINE, KARI = "+4798765432", "+4767000001", "+4791234567"


def test_an_incoming_call_is_twilios_form() -> None:
    form = incoming_call("CA" + "a" * 32, CALLER, LINE)
    assert form == {
        "AccountSid": SANDBOX_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + "a" * 32,
        "From": CALLER,
        "To": LINE,
        "Caller": CALLER,
        "Called": LINE,
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    assert re.fullmatch(r"AC0{32}", SANDBOX_ACCOUNT_SID)


def test_a_screening_leg_is_an_outbound_dial_without_a_status() -> None:
    leg = call_params("CA1", LINE, KARI, "AC" + "1" * 32, direction="outbound-dial")
    assert (leg["From"], leg["To"], leg["Direction"]) == (LINE, KARI, "outbound-dial")
    assert leg["AccountSid"] == "AC" + "1" * 32 and "CallStatus" not in leg


def test_an_incoming_sms_is_twilios_form() -> None:
    form = incoming_sms("SM" + "b" * 32, CALLER, LINE, "Hei")
    assert form["MessageSid"] == form["SmsSid"] == form["SmsMessageSid"] == "SM" + "b" * 32
    assert (form["From"], form["To"], form["Body"]) == (CALLER, LINE, "Hei")
    assert (form["NumMedia"], form["NumSegments"], form["SmsStatus"]) == ("0", "1", "received")
    assert form["AccountSid"] == SANDBOX_ACCOUNT_SID and form["ApiVersion"] == "2010-04-01"


def test_sids_and_recordings_have_twilios_shape() -> None:
    sids = {random_sid("SM") for _ in range(100)}
    assert len(sids) == 100 and all(re.fullmatch(r"SM[0-9a-f]{32}", s) for s in sids)
    recording = recording_params("RE1", "AC2", 12)
    assert recording == {
        "RecordingSid": "RE1",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC2/Recordings/RE1",
        "RecordingDuration": "12",
    }
