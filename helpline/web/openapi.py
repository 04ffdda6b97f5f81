"""The OpenAPI 3.1 document of the coordinators' API, served at `/api/openapi.json`."""

from __future__ import annotations

from typing import Any

from routing.audience import AUDIENCE_PATTERN
from routing.broadcasts import MAX_TEXT, TEXT_PATTERN

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_NULLABLE_INT = {"type": ["integer", "null"]}
_ERROR = {"$ref": "#/components/schemas/Error"}

_OUTCOME = {
    "type": "string",
    "enum": ["in_progress", "answered", "voicemail", "abandoned", "closed"],
}
_CHANNEL = {"type": "string", "enum": ["voice", "sms", "telegram"]}

_ATTEMPT = {
    "type": "object",
    "properties": {
        "step": {"type": "integer"},
        "role": {"type": "string", "enum": ["primary", "backup", "barnevernvakt", "fallback"]},
        "team": _NULLABLE_STRING,
        "person": _NULLABLE_STRING,
        "name": {"type": "string"},
        "outcome": {
            "type": "string",
            "enum": ["ringing", "accepted", "declined", "no-answer", "busy", "failed", "canceled"],
        },
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": _NULLABLE_TIME,
    },
}

_CONTACT = {
    "type": "object",
    "description": "A contact's metadata. The caller's number is masked; no message body.",
    "properties": {
        "id": {"type": "integer"},
        "channel": _CHANNEL,
        "kommune": _NULLABLE_STRING,
        "foster_home": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        },
        "caller": {"type": "string", "description": "masked, e.g. +47•••••432"},
        "helpline_number": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "answered_at": _NULLABLE_TIME,
        "ended_at": _NULLABLE_TIME,
        "seconds_to_answer": _NULLABLE_INT,
        "seconds_to_first_answer": _NULLABLE_INT,
        "closed_at": _NULLABLE_TIME,
        "category": _NULLABLE_STRING,
        "answered_by": _NULLABLE_STRING,
        "duration_seconds": _NULLABLE_INT,
        "outcome": _OUTCOME,
        "urgent": {"type": "boolean"},
        "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}},
    },
}


# What the API accepts; `helpline.web.api` validates with these same values.
QUERY_PARAMETERS = ("kommune", "since", "outcome", "channel", "limit")
LIMITS = {"limit": (1, 1000), "id": (1, 2_147_483_647)}
SINCE_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
KOMMUNE_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"

_SCOPE = (
    "Each token belongs to a person and has a role and a scope (`helpline token create`): "
    "an `admin` reads every kommune; a `koordinator` reads the contacts of the kommuner of "
    "its scope only, and never a contact without a kommune. A token expires (at most a "
    "year after it was made) and can be revoked (`helpline token revoke`); an expired or "
    "revoked token is refused with 401. Every read is recorded in the access log "
    "(innsynslogg) with the token's name, the time, the query or contact id and the "
    "client's address; a refused request (any 4xx) stores nothing."
)


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    described = {
        400: "a malformed, repeated or unknown parameter; `error` names it",
        401: "missing, invalid, expired or revoked bearer token",
        404: "no such contact, or one outside the token's scope (answered alike)",
    }
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
        **{
            str(code): {"description": described[code],
                        "content": {"application/json": {"schema": _ERROR}}}
            for code in errors
        },
    }  # fmt: skip


_LIST_PARAMETERS = [
    _query(
        "kommune",
        "only this kommune; one outside the token's scope gives an empty list",
        {"type": "string", "minLength": 1, "maxLength": 64, "pattern": KOMMUNE_PATTERN},
    ),
    _query(
        "since",
        "started at or after this RFC 3339 date-time with offset (seconds may be left out)",
        {"type": "string", "format": "date-time", "pattern": SINCE_PATTERN},
    ),
    _query("outcome", "only contacts with this outcome", _OUTCOME),
    _query("channel", "only contacts on this channel", _CHANNEL),
    _query(
        "limit",
        "at most this many (default 100)",
        {
            "type": "integer",
            "minimum": LIMITS["limit"][0],
            "maximum": LIMITS["limit"][1],
            "default": 100,
        },
    ),  # fmt: skip
]

# POST /api/broadcasts: the fields of its body; `helpline.web.broadcasts` checks with these.
BROADCAST_FIELDS = ("to", "text", "at", "dry_run")
AT_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
_BROADCAST_REQUEST = {
    "type": "object",
    "required": ["to", "text"],
    "additionalProperties": False,
    "properties": {
        "to": {
            "type": "string",
            "description": "the audience: kommune:ID, group:ID (its foster homes), home:ID, "
            "team:ID (its staff), comma-separated",
            "pattern": AUDIENCE_PATTERN,
        },
        "text": {
            "type": "string",
            "description": "the message in Norwegian; SMS recipients get a footer telling "
            "them how to stop such messages",
            "minLength": 1,
            "maxLength": MAX_TEXT,
            "pattern": TEXT_PATTERN,
        },
        "at": {
            "type": "string",
            "format": "date-time",
            "pattern": AT_PATTERN,
            "description": "when to send (default now); without an offset, Europe/Oslo "
            "wall-clock time; at most a minute past and a year ahead",
        },
        "dry_run": {"type": "boolean", "default": False,
                    "description": "count the recipients and store nothing"},
    },
}  # fmt: skip
_COUNT = {"type": "integer", "minimum": 0}
_BROADCAST = {
    "type": "object",
    "required": ["dry_run", "audience", "send_at", "recipients", "opted_out", "telegram", "sms",
                 "held_by_quiet_hours"],
    "properties": {
        "dry_run": {"type": "boolean"},
        "id": {"type": "integer", "description": "the broadcast (not for a dry run)"},
        "audience": {"type": "string"},
        "send_at": {"type": "string", "format": "date-time"},
        "recipients": _COUNT,
        "opted_out": {**_COUNT, "description": "said STOPP: they get nothing"},
        "telegram": {**_COUNT, "description": "reached on Telegram (of those not opted out)"},
        "sms": {**_COUNT, "description": "reached by SMS (of those not opted out)"},
        "held_by_quiet_hours": {**_COUNT, "description": "waiting for quiet hours to end"},
    },
}  # fmt: skip

_CONTACT_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "the contact's id",
    "schema": {"type": "integer", "minimum": LIMITS["id"][0], "maximum": LIMITS["id"][1]},
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Fosterhjemstelefonen coordinators' API",
        "version": "2",
        "description": "The contact log of the helpline, and broadcasts. "
        + _SCOPE
        + " Parameters not listed here, and a parameter given twice, are refused with 400.",
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/contacts": {
            "get": {
                "summary": "List contacts in the token's scope, newest first (recorded)",
                "parameters": _LIST_PARAMETERS,
                "responses": _responses(
                    {
                        "type": "object",
                        "required": ["contacts"],
                        "properties": {
                            "contacts": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Contact"},
                            }
                        },
                    },
                    400,
                    401,
                ),  # fmt: skip
            }
        },
        "/api/contacts/{id}": {
            "get": {
                "summary": "One contact with the caller's number and recording (recorded)",
                "parameters": [_CONTACT_ID],
                "responses": _responses(
                    {
                        "allOf": [
                            {"$ref": "#/components/schemas/Contact"},
                            {
                                "type": "object",
                                "properties": {
                                    "caller": {"type": "string", "description": "E.164, unmasked"},
                                    "recording_url": _NULLABLE_STRING,
                                    "recording_seconds": _NULLABLE_INT,
                                    "messages": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Message"},
                                    },
                                },
                            },
                        ]
                    },
                    400,
                    401,
                    404,
                ),  # fmt: skip
            }
        },
        "/api/broadcasts": {
            "post": {
                "summary": "Send an info message to an audience, or count it with dry_run",
                "description": "An admin token may address any audience; a koordinator token "
                "only audiences inside its kommuner. A target unknown or outside the scope "
                "answers 404 alike. Recipients who said STOPP get nothing; quiet hours hold "
                "the rest until they end; sending is paced per sending number.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _BROADCAST_REQUEST}},
                },
                "responses": {
                    **_responses(_BROADCAST, 400, 401),
                    "201": {
                        "description": "stored and started",
                        "content": {"application/json": {"schema": _BROADCAST}},
                    },
                    "404": {
                        "description": "a target that is unknown or outside the token's "
                        "scope (answered alike)",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "409": {
                        "description": "`at` is in the past, too far ahead or out of range",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": _SCOPE}},
        "schemas": {
            "Contact": _CONTACT,
            "Attempt": _ATTEMPT,
            "Message": {
                "type": "object",
                "properties": {
                    "direction": {"type": "string", "enum": ["in", "out"]},
                    "channel": {"type": "string", "enum": ["sms", "telegram"]},
                    "sender_role": {"type": "string"},
                    "sender_name": _NULLABLE_STRING,
                    "body": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            },
        },
    },
}
