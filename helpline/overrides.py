"""Overrides made in the console: a new version of the organisation, through the loader.

An edit is the rota file of the edited organisation (`dump_org` at the version it was
read from, with the change), loaded by `helpline.commands.org.load_text` like any file:
validated by the same rules, stored in one transaction as a new version of origin
"console", live at once for `helpline oncall` and the phone line. An edit based on a
version someone has replaced meanwhile is refused (the loader's `StaleFile`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from helpline.bootstrap import LoadedOrg, Services
from helpline.commands.org import StaleFile, load_text
from rota.model import Override
from rota.orgfile import OrgFileError, dump_org, parse_org
from rota.orgfile.values import format_local
from rota.wallclock import zone
from routing.override_form import NOT_SAVED, entry_name, field_errors, override_table

STALE = "Vaktplanen ble endret av noen andre i mellomtiden. Se over, og prøv igjen."


@dataclass(frozen=True, slots=True)
class Refused(Exception):
    """The edit changed nothing: the Norwegian message beside each field, and one for
    the form as a whole (None when the fields say it all)."""

    fields: Mapping[str, str]
    general: str | None = None


def describe(override: Override, timezone: str) -> str:
    """An override in the words of the version history (English, ids only)."""
    tz = zone(timezone)
    return (
        f"{override.person} in {override.team} "
        f"{format_local(override.start, tz)}..{format_local(override.end, tz)}"
    )


async def add_override(
    services: Services, loaded: LoadedOrg, form: Mapping[str, str], person: str
) -> int:
    """Add the form's override to the organisation of `loaded`; the new version."""
    index = len(loaded.org.overrides) + 1
    text = dump_org(loaded.org, loaded.version) + "\n" + override_table(form)
    try:
        org = parse_org(text)  # the loader's own rules, read once more by `load_text`
    except OrgFileError as error:
        fields, other = field_errors(error.errors, entry_name(index, form.get("team", "")))
        raise Refused(fields, NOT_SAVED if other or not fields else None) from None
    summary = "override added: " + describe(org.overrides[-1], org.helpline.timezone)
    try:
        return await load_text(services, text, origin="console", person=person, summary=summary)
    except StaleFile:
        raise Refused({}, STALE) from None


async def remove_override(
    services: Services, loaded: LoadedOrg, override: Override, person: str
) -> int:
    """Remove `override` (one of `loaded`'s) from the organisation; the new version."""
    kept = tuple(o for o in loaded.org.overrides if o != override)
    org = replace(loaded.org, overrides=kept)
    summary = "override removed: " + describe(override, org.helpline.timezone)
    try:
        return await load_text(
            services,
            dump_org(org, loaded.version),
            origin="console",
            person=person,
            summary=summary,
        )
    except StaleFile:
        raise Refused({}, STALE) from None
