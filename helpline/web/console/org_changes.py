"""How the console changes the organisation: one way, `helpline load`'s.

Every change the Register makes (an imported rota file, one foster home added, edited or
deactivated) becomes a whole rota file and goes through `apply_org`, which is the load
path of `helpline load` (`helpline.commands.org.load_and_welcome`): parsed and validated
again, the register replaced in one transaction, new group members welcomed. There is no
second loader here.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from helpline.bootstrap import Services
from helpline.commands.org import load_and_welcome
from rota.model import Organisation
from rota.orgdiff import SectionDiff, diff_orgs
from rota.orgfile import dump_org, parse_org

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Preview:
    """What an import would change, and which version of the register it was made
    against (an apply refuses when the register moved on meanwhile)."""

    sections: tuple[SectionDiff, ...]
    base_version: int | None
    digest: str  # of the file's text: the apply must load the file that was previewed

    @property
    def unchanged(self) -> bool:
        return all(s.empty for s in self.sections)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def preview(services: Services, text: str) -> Preview:
    """Parse and validate `text` (raises `OrgFileError`, listing every problem) and
    compare it with the current register. Changes nothing."""
    new = parse_org(text)
    loaded = await services.organisation()
    current = loaded.org if loaded else None
    return Preview(diff_orgs(current, new), loaded.version if loaded else None, digest(text))


async def apply_org(services: Services, text: str, *, force: bool = False) -> int:
    """Load `text` as `helpline load` does; the new version. Raises `OrgFileError` and
    changes nothing when it does not validate, and `StaleFile` (unless `force`) when it
    is based on an older version than the register's."""
    version, welcomed = await load_and_welcome(services, text, force=force)
    log.info("console: organisation loaded (version %d, %d welcomed)", version, welcomed)
    return version


async def apply_organisation(services: Services, org: Organisation) -> int:
    """`apply_org` of an organisation made by an edit (`rota.edits`) of the current one
    (whose version the edit's form was checked against): never stale."""
    return await apply_org(services, dump_org(org), force=True)
