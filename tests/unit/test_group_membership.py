"""Who belongs to which group: the decision behind `group mute` and `group unmute`."""

import pytest

from rota.orgfile import parse_org
from routing.callers import Directory
from routing.groups import Membership, membership
from tests.unit.test_orgfile import demo_text

DIRECTORY = Directory(parse_org(demo_text()))


@pytest.mark.parametrize(
    ("group", "home", "expected"),
    [
        ("asker-rf-nilsen", "hansen", "member"),
        ("asker-rf-nilsen", "nilsen", "member"),  # the hub belongs to its ressursfamilie
        ("baerum-nettverk", "kristiansen", "member"),
        ("asker-rf-nilsen", "olsen", "not_member"),  # a foster home of another group
        ("baerum-nettverk", "nilsen", "not_member"),
        ("asker-rf-nilse", "hansen", "unknown_group"),
        ("asker-rf-nilse", "nobody", "unknown_group"),  # the group is named first
        ("asker-rf-nilsen", "hanssen", "unknown_home"),
        ("hansen", "asker-rf-nilsen", "unknown_group"),  # arguments swapped
    ],
)
def test_membership(group: str, home: str, expected: Membership) -> None:
    assert membership(DIRECTORY, group, home) == expected
