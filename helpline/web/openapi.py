"""The OpenAPI 3.1 document of the coordinators' API, served at `/api/openapi.json`."""

from __future__ import annotations

from typing import Any

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


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}  # fmt: skip


def _responses(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    described = {400: "bad filter", 401: "missing or invalid bearer token", 404: "not found"}
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
        **{
            str(code): {"description": described[code],
                        "content": {"application/json": {"schema": _ERROR}}}
            for code in errors
        },
    }  # fmt: skip


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Fosterhjemstelefonen coordinators' API",
        "version": "1",
        "description": "The contact log of the helpline. Every read of a contact's content "
        "(GET /api/contacts/{id}) is recorded with the token's name.",
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/contacts": {
            "get": {
                "summary": "List contacts, newest first",
                "parameters": [
                    _query("kommune", "kommune id", {"type": "string"}),
                    _query(
                        "since",
                        "ISO 8601 date-time with offset",
                        {"type": "string", "format": "date-time"},
                    ),  # fmt: skip
                    _query("outcome", "outcome", _OUTCOME),
                    _query("channel", "channel", _CHANNEL),
                    _query(
                        "limit",
                        "at most this many (1-1000, default 100)",
                        {"type": "integer", "minimum": 1, "maximum": 1000},
                    ),  # fmt: skip
                ],
                "responses": _responses(
                    {
                        "type": "object",
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
                "summary": "One contact with the caller's number and recording (audited)",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],  # fmt: skip
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
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
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
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
        },
    },
}
