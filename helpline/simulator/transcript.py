"""What happened in a simulation: its record (a call's transcript) and outcome, and the
simulator's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    """How the simulation went, from the service's point of view."""

    COMPLETED = "completed"  # the service answered every webhook with valid TwiML
    APPLICATION_ERROR = "application-error"  # an HTTP error or invalid TwiML: Twilio gives up
    TOO_MANY_REQUESTS = "too-many-requests"  # stopped by the request cap: the TwiML loops
    STATUS_CALLBACK_ERROR = "status-callback-error"  # the call went well, a callback failed


@dataclass(frozen=True, slots=True)
class Exchange:
    """One webhook request: method, the public URL that was signed, and the HTTP status."""

    method: str
    url: str
    status: int | None  # None: no answer in time


@dataclass(slots=True, kw_only=True)
class Record:
    """What happened in one simulation, in order (lines and webhook requests), and how it
    went."""

    entries: list[str | Exchange] = field(default_factory=list)
    outcome: Outcome = Outcome.COMPLETED
    error: str | None = None  # what went wrong, when the outcome is not COMPLETED

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    @property
    def lines(self) -> list[str]:
        """What everyone heard and did, without the webhook requests."""
        return [entry for entry in self.entries if isinstance(entry, str)]

    @property
    def exchanges(self) -> list[Exchange]:
        return [entry for entry in self.entries if isinstance(entry, Exchange)]

    def render(self, *, with_requests: bool = False) -> str:
        """The record as text, one line per event; requests indented when asked for."""
        out = []
        for entry in self.entries:
            if isinstance(entry, str):
                out.append(entry)
            elif with_requests:
                out.append(f"    -> {entry.method} {entry.url}: {entry.status or 'no answer'}")
        return "\n".join(out)


@dataclass(slots=True, kw_only=True)
class Transcript(Record):
    """What happened in one simulated call, in order, plus its outcome."""

    call_sid: str
    caller: str
    called: str
    call_status: str = "completed"  # the CallStatus of the final status callback
    duration: int = 0  # simulated seconds
    connected: list[str] = field(default_factory=list)  # numbers the caller talked to


class SimulatorError(Exception):
    """The simulation could not run (operator-facing, English)."""


class ServiceUnreachable(SimulatorError):
    """Nothing listens at the service's address; `transcript` holds what happened before
    (None when nothing did)."""

    def __init__(self, message: str, transcript: Record | None = None) -> None:
        super().__init__(message)
        self.transcript = transcript
