"""The console's Register over the app, with a real Redis and database: scope, the access
log, CSRF, the rota file's import (every error, nothing changed; a preview; the load) and
export, and a foster home's add, edit and deactivation through `helpline load`'s path."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import pytest
from aiohttp import FormData

from helpline.bootstrap import Services
from helpline.commands.org import demo_text, load_text
from helpline.db.register import current_version, read_organisation
from rota.orgfile import dump_org
from tests.conftest import FrozenClock, app_client
from tests.e2e.api_setup import MONDAY_10
from tests.integration.console_support import (
    KARI,
    NINA,
    SIRI,
    Client,
    access_entries,
    csrf_of,
    form_token,
    log_in,
    post_form,
)

pytestmark = pytest.mark.integration

HOME_FORM = "/console/register/fosterhjem"


@pytest.fixture
async def client(services: Services, clock: FrozenClock) -> AsyncIterator[Client]:
    clock.now = MONDAY_10
    await load_text(services, demo_text())
    client = await app_client(services)
    yield client
    await client.close()


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def version(services: Services) -> int | None:
    async with services.sessions() as session:
        return await current_version(session)


async def register_text(services: Services) -> str:
    async with services.sessions() as session:
        org = await read_organisation(session)
    assert org is not None
    return dump_org(org)


async def upload(client: Client, text: str, *, token: str | None = None) -> tuple[int, str]:
    """Post `text` as an uploaded file to the import, with the page's CSRF token."""
    form = FormData()
    form.add_field("csrf", token or await form_token(client, "/console/register/import"))
    form.add_field("fil", text.encode(), filename="rota.toml", content_type="application/toml")
    form.add_field("tekst", "")
    response = await client.post("/console/register/import", data=form, allow_redirects=False)
    return response.status, await response.text()


async def test_a_koordinator_sees_their_kommune_and_the_read_is_logged(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    html = await (await client.get("/console/register")).text()
    page = text_of(html)
    assert "Familien Hansen" in page and "Ola Berg" in page and "Hilde Aas" in page
    assert "98 76 54 32" in page  # the numbers, as people write them
    assert "Familien Olsen" not in page and "Marte Lie" not in page
    assert "Barnevernstjenesten i Bærum" not in page  # the shared barnevernvakt is shown
    assert "Importer rotafil" not in page  # admins only
    assert ">Register</a>" in html
    assert ("console:kari", "console.register", "kommuner:asker") in await access_entries(services)


async def test_search_finds_names_and_numbers(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    page = text_of(await (await client.get("/console/register?q=987 65")).text())
    assert "Familien Hansen" in page and "Familien Olsen" not in page and "Kari" not in page
    page = text_of(await (await client.get("/console/register?q=olsen")).text())
    assert "Familien Olsen" in page and "Familien Hansen" not in page
    actions = [a for _actor, a, _t in await access_entries(services)]
    assert actions.count("console.register.search") == 2


async def test_a_vakt_has_no_register(client: Client, services: Services) -> None:
    await log_in(client, services, NINA)
    assert ">Register</a>" not in await (await client.get("/console/")).text()
    for path in ("/console/register", "/console/register/fosterhjem/hansen", HOME_FORM + "/ny"):
        assert (await client.get(path)).status == 404


async def test_import_and_export_are_for_admins_only(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    for path in ("/console/register/import", "/console/register/eksport"):
        response = await client.get(path)
        assert response.status == 403 and "Bare administratorer" in await response.text()
    token = csrf_of(await (await client.get("/console/register")).text())
    status, _html = await upload(client, demo_text(), token=token)
    assert status == 403


async def test_the_export_is_the_dump(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    response = await client.get("/console/register/eksport")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert await response.text() == await register_text(services)
    assert ("console:siri", "console.register.export", "version:1") in await access_entries(
        services
    )


async def test_an_import_with_errors_lists_them_all_and_changes_nothing(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    before = await register_text(services)
    broken = demo_text().replace('phones = ["+4792345678"]', 'phones = ["12"]', 1)
    broken = broken.replace('kommune = "baerum"\nphones', 'kommune = "barum"\nphones', 1)
    status, html = await upload(client, broken)
    assert status == 400
    page = text_of(html)
    assert "Filen har 2 feil. Ingenting er endret." in page
    assert "fosterhjem 'johansen' , feltet «phones»: Ugyldig telefonnummer." in page
    assert "fosterhjem 'olsen' , feltet «kommune»: Ukjent kommune." in page
    assert "unknown kommune 'barum' (did you mean 'baerum'?)" in page  # the loader's words
    assert await register_text(services) == before and await version(services) == 1


async def test_the_preview_lists_the_changes_and_the_apply_loads_them(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    changed = demo_text().replace('name = "Familien Haugen"', 'name = "Familien Haugen-Berg"')
    changed = changed.replace('id = "ola"\nname = "Ola Berg"', 'id = "ola"\nname = "Ola Berge"')
    changed += '\n[[foster_home]]\nid = "moen"\nname = "Familien Moen"\n'
    changed += 'kommune = "asker"\nphones = ["+4790001122"]\n'
    status, html = await upload(client, changed)
    assert status == 200, text_of(html)
    page = text_of(html)
    assert "Fosterhjem Nye (1) moen (Familien Moen) Endres (1) haugen (Familien Haugen-Berg)" in (
        page
    )
    assert "Personer Endres (1) ola (Ola Berge)" in page
    assert "Kommuner" not in page  # unchanged sections are left out
    assert await version(services) == 1  # the preview changed nothing
    response = await post_form(
        client,
        "/console/register/import/bruk",
        {
            "csrf": csrf_of(html),
            "digest": re.search(r'name="digest" value="([^"]+)"', html)[1],  # type: ignore[index]
            "versjon": "1",
        },
    )
    assert (response.status, response.headers["Location"]) == (
        303,
        "/console/register?endret=lastet",
    )
    assert await version(services) == 2
    page = text_of(await (await client.get("/console/register?endret=lastet")).text())
    assert "Rotafilen er lastet" in page and "Familien Moen" in page and "Ola Berge" in page
    assert ("console:siri", "console.register.load", "version:2") in await access_entries(services)


async def test_an_apply_after_another_change_is_refused(client: Client, services: Services) -> None:
    await log_in(client, services, SIRI)
    changed = demo_text().replace('name = "Familien Haugen"', 'name = "Familien Haug"')
    status, html = await upload(client, changed)
    assert status == 200
    digest = re.search(r'name="digest" value="([^"]+)"', html)[1]  # type: ignore[index]
    await load_text(services, demo_text())  # someone loads a file meanwhile: version 2
    fields = {"csrf": csrf_of(html), "digest": digest, "versjon": "1"}
    response = await post_form(client, "/console/register/import/bruk", fields)
    assert response.status == 409 and "Ingenting er endret" in await response.text()
    assert await version(services) == 2 and "Familien Haug\n" not in await register_text(services)
    fields["digest"] = "0" * 64
    fields["versjon"] = "2"
    response = await post_form(client, "/console/register/import/bruk", fields)
    assert response.status == 409 and await version(services) == 2


async def test_an_import_without_the_csrf_token_changes_nothing(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    changed = demo_text().replace('name = "Familien Haugen"', 'name = "Familien Haug"')
    status, _html = await upload(client, changed, token="forged")
    assert status == 403 and await version(services) == 1


async def test_a_bad_phone_is_shown_beside_the_field_and_changes_nothing(
    client: Client, services: Services
) -> None:
    await log_in(client, services, KARI)
    html = await (await client.get(HOME_FORM + "/hansen")).text()
    assert 'value="98 76 54 32, 98 76 54 33"' in html
    fields = {"csrf": csrf_of(html), "versjon": "1", "navn": "Familien Hansen"}
    fields |= {"kommune": "asker", "telefoner": "98 76 54 32, 123"}
    response = await post_form(client, HOME_FORM + "/hansen", fields)
    assert response.status == 400
    html = await response.text()
    assert re.search(
        r'id="telefoner"[^>]*aria-invalid="true"[^>]*aria-describedby="telefoner-error', html
    )
    assert '<p class="ds-validation-message" data-color="danger" id="telefoner-error">' in html
    assert "Ugyldig telefonnummer." in html and await version(services) == 1
    fields["telefoner"] = "98 76 54 32, 909 09 090"
    response = await post_form(client, HOME_FORM + "/hansen", fields)
    assert (response.status, response.headers["Location"]) == (
        303,
        "/console/register?endret=lagret",
    )
    assert await version(services) == 2
    assert 'phones = ["+4798765432", "+4790909090"]' in await register_text(services)
    entries = await access_entries(services)
    assert ("console:kari", "console.register.foster_home", "foster_home:hansen") in entries
    assert ("console:kari", "console.register.change", "foster_home:hansen version:2") in entries


async def test_a_koordinator_edits_only_their_kommuner(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    assert (await client.get(HOME_FORM + "/olsen")).status == 404  # Bærum's
    assert (await client.get(HOME_FORM + "/nobody")).status == 404
    token = await form_token(client, HOME_FORM + "/ny")
    fields = {"csrf": token, "versjon": "1", "navn": "Familien Moen"}
    fields |= {"kommune": "baerum", "telefoner": "900 01 122"}
    response = await post_form(client, HOME_FORM + "/olsen", fields)
    assert response.status == 404
    response = await post_form(client, HOME_FORM + "/ny", fields)
    assert response.status == 400
    assert 'id="kommune-error">Velg en av kommunene i listen.' in await response.text()
    assert await version(services) == 1


async def test_a_number_of_another_home_is_refused_without_naming_it(
    client: Client, services: Services
) -> None:
    await log_in(client, services, SIRI)
    token = await form_token(client, HOME_FORM + "/ny")
    fields = {"csrf": token, "versjon": "1", "navn": "Familien Moen", "kommune": "asker"}
    fields["telefoner"] = "99 88 77 66"  # Familien Olsen's
    response = await post_form(client, HOME_FORM + "/ny", fields)
    html = await response.text()
    assert response.status == 400
    assert 'id="telefoner-error">Nummeret tilhører allerede et annet fosterhjem.' in html
    assert "olsen" not in html.lower() and await version(services) == 1


async def test_a_new_home_is_added_and_deactivated(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, HOME_FORM + "/ny")
    fields = {"csrf": token, "versjon": "1", "navn": "Familien Bråten", "kommune": "asker"}
    fields["telefoner"] = "900 01 122"
    response = await post_form(client, HOME_FORM + "/ny", fields)
    assert (response.status, response.headers["Location"]) == (303, "/console/register?endret=ny")
    text = await register_text(services)
    assert 'id = "familien-braten"\nname = "Familien Bråten"' in text
    token = await form_token(client, HOME_FORM + "/familien-braten")
    stale = {"csrf": token, "versjon": "1"}
    response = await post_form(client, HOME_FORM + "/familien-braten/deaktiver", stale)
    assert response.status == 409 and await version(services) == 2
    response = await post_form(
        client, HOME_FORM + "/familien-braten/deaktiver", {"csrf": token, "versjon": "2"}
    )
    assert response.status == 303 and await version(services) == 3
    assert "familien-braten" not in await register_text(services)


async def test_a_home_in_a_group_is_not_deactivated(client: Client, services: Services) -> None:
    await log_in(client, services, KARI)
    token = await form_token(client, HOME_FORM + "/hansen")
    response = await post_form(
        client, HOME_FORM + "/hansen/deaktiver", {"csrf": token, "versjon": "1"}
    )
    assert response.status == 409
    assert "Fosterhjemmet er med i gruppen «Ressursfamilien Nilsen»" in await response.text()
    assert await version(services) == 1


async def test_an_import_of_a_file_older_than_a_console_edit_is_refused(
    client: Client, services: Services
) -> None:
    """A file dumped at version 1 would undo a console edit made since (version 2)."""
    await log_in(client, services, SIRI)
    old = "version = 1\n" + demo_text().replace(
        'name = "Familien Haugen"', 'name = "Familien Haug"'
    )
    status, html = await upload(client, old)
    assert status == 200, text_of(html)
    digest = re.search(r'name="digest" value="([^"]+)"', html)[1]  # type: ignore[index]
    edited = (await register_text(services)).replace("Ola Berg", "Ola Berge")
    await load_text(services, edited, force=True, origin="console")  # a console edit: v2
    fields = {"csrf": csrf_of(html), "digest": digest, "versjon": "2"}
    response = await post_form(client, "/console/register/import/bruk", fields)
    page = text_of(await response.text())
    assert response.status == 409 and "bygger på versjon 1" in page
    assert await version(services) == 2 and "Familien Haug\n" not in await register_text(services)
