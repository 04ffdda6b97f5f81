"""The OpenAPI pieces of `/api/events...`: the request bodies, the answers, and the
values `helpline.web.events` validates with, so the document and the code agree."""

from __future__ import annotations

from typing import Any

from helpline.web.openapi import AT_PATTERN, KOMMUNE_PATTERN, LIMITS
from routing.audience import AUDIENCE_PATTERN
from routing.event_rules import EVENT_KINDS, MAX_CAPACITY, MAX_NOTE, MAX_PLACE, MAX_TITLE

TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
HOME_PATTERN = r"^[^,:\x00-\x1f\x7f]{1,64}$"
DATE_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
MAX_HOMES = 500

_ERROR = {"$ref": "#/components/schemas/Error"}
_TIME = {"type": "string", "format": "date-time", "pattern": AT_PATTERN,
         "description": "ISO 8601; without an offset, Europe/Oslo wall-clock time"}  # fmt: skip
_CAPACITY = {"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY,
             "description": "places, in people"}  # fmt: skip
_PLACE = {"type": "string", "minLength": 1, "maxLength": MAX_PLACE, "pattern": TEXT_PATTERN}
_AUDIENCE = {
    "type": "string",
    "pattern": AUDIENCE_PATTERN,
    "description": "kommune:ID, group:ID, home:ID (foster homes, invited), team:ID (the event "
    "shows in the team's duty calendars), comma-separated",
}
_HOMES = {"type": "array", "maxItems": MAX_HOMES,
          "items": {"type": "string", "pattern": HOME_PATTERN}}  # fmt: skip

CREATE_FIELDS = ("kind", "title", "starts", "ends", "place", "capacity", "rsvp_by", "audience",
                 "note")  # fmt: skip
CHANGE_FIELDS = ("starts", "ends", "place", "capacity")
INVITE_FIELDS = ("audience",)
CANCEL_FIELDS = ("reason",)
ATTENDANCE_FIELDS = ("present", "absent")
STATS_PARAMETERS = ("kommune", "from", "to")

BODIES: dict[str, dict[str, Any]] = {
    "create": {
        "type": "object",
        "required": ["kind", "title", "starts", "ends", "place"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string", "enum": list(EVENT_KINDS)},
            "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE,
                      "pattern": TEXT_PATTERN},
            "starts": _TIME,
            "ends": _TIME,
            "place": _PLACE,
            "capacity": _CAPACITY,
            "rsvp_by": {**_TIME, "description": "the answer deadline (default: the start of "
                        "the event's day)"},
            "audience": _AUDIENCE,
            "note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE,
                     "pattern": TEXT_PATTERN},
        },
    },
    "change": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"starts": _TIME, "ends": _TIME, "place": _PLACE, "capacity": _CAPACITY},
    },
    "invite": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"audience": {**_AUDIENCE, "description": "added to the audience first"}},
    },
    "cancel": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 300,
                                  "pattern": TEXT_PATTERN}},
    },
    "attendance": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"present": _HOMES, "absent": _HOMES},
    },
}  # fmt: skip

_COUNT = {"type": "integer", "minimum": 0}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_SUMMARY = {
    "id": {"type": "integer"},
    "kind": {"type": "string", "enum": list(EVENT_KINDS)},
    "title": {"type": "string"},
    "starts": {"type": "string", "format": "date-time"},
    "ends": {"type": "string", "format": "date-time"},
    "place": {"type": "string"},
    "capacity": {"type": ["integer", "null"]},
}
_COUNTS = {name: _COUNT for name in
           ("invited", "yes", "no", "waitlist", "no_answer", "people_yes", "attended")}  # fmt: skip
_RATE = {
    "type": "object",
    "properties": {"invited": _COUNT, "answered": _COUNT,
                   "answer_rate": {"type": ["number", "null"]}},
}  # fmt: skip
EVENT = {
    "type": "object",
    "required": [*_SUMMARY, *_COUNTS, "answers"],
    "properties": {
        **_SUMMARY,
        **_COUNTS,
        "answers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "foster_home": {"type": "string"},
                    "answer": {"type": "string", "enum": ["yes", "no", "waitlist", "expired"]},
                    "people": _COUNT,
                    "position": {"type": ["integer", "null"],
                                 "description": "place on the waitlist"},
                    "channel": {"type": ["string", "null"], "enum": ["sms", "telegram", "link",
                                                                     None]},
                    "at": _NULLABLE_TIME,
                },
            },
        },
        "status": {"type": "string", "enum": ["open", "cancelled"]},
        "rsvp_by": {"type": "string", "format": "date-time"},
        "audience": {"type": "string"},
        "sequence": _COUNT,
        "answered": _COUNT,
        "by_channel": {
            "type": "object",
            "description": "per channel the home was invited on: the answer rate; and how "
            "many answers came by each channel",
            "properties": {"sms": _RATE, "telegram": _RATE,
                           "answered_by": {"type": "object",
                                           "additionalProperties": _COUNT}},
        },
    },
}  # fmt: skip
EVENT_LIST = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "items": {
        "type": "object",
        "properties": {**_SUMMARY, **_COUNTS,
                       "status": {"type": "string", "enum": ["open", "cancelled"]}},
    }}},
}  # fmt: skip
STATS = {
    "type": "object",
    "required": ["kommuner"],
    "properties": {"kommuner": {"type": "array", "items": {
        "type": "object",
        "properties": {"kommune": {"type": "string"},
                       "month": {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$"},
                       **{name: _COUNT for name in
                          ("events", "invited", "yes", "people_yes", "attended")}},
    }}},
}  # fmt: skip


def _done(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", *names],
        "properties": {"id": {"type": "integer"}, **{name: _COUNT for name in names}},
    }


def _answers(
    ok: dict[str, Any], ok_status: str = "200", conflict: str | None = None
) -> dict[str, Any]:
    described = {
        ok_status: ("OK", ok),
        "400": ("a malformed body, path or parameter; `error` says which", _ERROR),
        "401": ("missing, invalid, expired or revoked bearer token", _ERROR),
        "404": (
            "no such event, audience or home, or one outside the token's scope (answered alike)",
            _ERROR,
        ),
    }
    if conflict:
        described["409"] = (conflict, _ERROR)
    return {code: {"description": text, "content": {"application/json": {"schema": schema}}}
            for code, (text, schema) in described.items()}  # fmt: skip


_EVENT_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the event's id",
    "schema": {"type": "integer", "minimum": LIMITS["id"][0], "maximum": LIMITS["id"][1]},
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def _post(summary: str, body: str, ok: dict[str, Any], conflict: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_EVENT_ID],
            "requestBody": {"required": False,
                            "content": {"application/json": {"schema": BODIES[body]}}},
            "responses": _answers(ok, conflict=conflict),
        }
    }  # fmt: skip


_IMPOSSIBLE = ("a request the event cannot take: a time in the past or out of order, texts "
               "too long for a two-segment invitation, a cancelled or begun event")  # fmt: skip

PATHS: dict[str, Any] = {
    "/api/events": {
        "get": {
            "summary": "Events in the token's scope, soonest first, with their counts",
            "parameters": [
                _query("status", "only open or only cancelled events",
                       {"type": "string", "enum": ["open", "cancelled"]}),
            ],
            "responses": _answers(EVENT_LIST),
        },
        "post": {
            "summary": "Make an event (invite with /api/events/{id}/invite)",
            "description": "A koordinator token needs an audience inside its kommuner.",
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": BODIES["create"]}}},
            "responses": _answers(_done(), "201", _IMPOSSIBLE),
        },
    },
    "/api/events/stats": {
        "get": {
            "summary": "Per kommune and month: events held, homes invited, coming, present",
            "parameters": [
                _query("kommune", "only this kommune (outside the scope: an empty list)",
                       {"type": "string", "minLength": 1, "maxLength": 64,
                        "pattern": KOMMUNE_PATTERN}),
                _query("from", "events from this date", {"type": "string", "format": "date",
                                                          "pattern": DATE_PATTERN}),
                _query("to", "events to this date, inclusive",
                       {"type": "string", "format": "date", "pattern": DATE_PATTERN}),
            ],
            "responses": _answers(STATS),
        }
    },
    "/api/events/{id}": {
        "get": {
            "summary": "One event with every answer (recorded in the access log)",
            "parameters": [_EVENT_ID],
            "responses": _answers(EVENT),
        }
    },
    "/api/events/{id}/invite": _post(
        "Invite the audience's foster homes not invited yet", "invite", _done("invited"),
        _IMPOSSIBLE),
    "/api/events/{id}/change": _post(
        "Change time, place or capacity; yes and waitlist are told of a new time or place",
        "change", _done("told"), _IMPOSSIBLE),
    "/api/events/{id}/cancel": _post(
        "Cancel; every home that has not said no is told", "cancel", _done("told"),
        _IMPOSSIBLE),
    "/api/events/{id}/attendance": _post(
        "Mark invited homes present (or absent)", "attendance", _done("attended"),
        "a home that was not invited"),
}  # fmt: skip
