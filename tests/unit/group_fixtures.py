"""A register for group messaging: the demo's ressursfamilie grown to six (the hub and
five), and two nettverk without numbers of their own, so that Familien Hansen is in
three groups: #G1 Ressursfamilien Nilsen (its own number), #G2 Fosterhjemsnettverket i
Asker and #G3 Fosterhjemskafeen i Asker (both on the network number)."""

from __future__ import annotations

from importlib.resources import files

EXTRA = """
[[foster_home]]
id = "berg"
name = "Familien Berg"
kommune = "asker"
phones = ["+4798700001"]

[[foster_home]]
id = "dahl"
name = "Familien Dahl"
kommune = "asker"
phones = ["+4798700002"]

[[group]]
id = "asker-nettverk"
name = "Fosterhjemsnettverket i Asker"
kind = "nettverk"
kommune = "asker"
members = ["hansen", "haugen"]
staff = ["ola"]

[[group]]
id = "asker-kafe"
name = "Fosterhjemskafeen i Asker"
kind = "nettverk"
kommune = "asker"
members = ["hansen", "berg"]
staff = ["ola"]
"""


def org_text() -> str:
    demo = (files("helpline") / "demo.toml").read_text(encoding="utf-8")
    members = 'members = ["hansen", "johansen", "haugen"]'
    text = demo.replace(members, members[:-1] + ', "berg", "dahl"]')
    assert text != demo
    return text + EXTRA
