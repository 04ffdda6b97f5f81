"""Routing decisions: escalation plans, texts and reply parsing. Pure: no I/O, no clock."""
