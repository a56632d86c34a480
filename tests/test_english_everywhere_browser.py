"""English everywhere, and a top bar that fits a phone (issue #16, item 11).

Every role signs in, switches the UI to English with the top bar's language menu, and opens every page its
menu offers plus /data/, /households/import/, /members/ and /api/docs/. No visible text (text nodes, the
title, placeholders, titles and labels of visible elements) may hold a CJK character, except data values:
the names, codes, addresses and masked names of the user's scope, read from the database (never a hand list),
and the language menu's own "简体中文" (a language is offered in its own name).

The top bar, at 360 and 390 px in both languages: the brand, the language menu, sign-out and the menu button
lie inside the viewport and are not clipped; the page does not scroll sideways; the menu opens and every item
is fully visible. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from gridmap import policy
from tests.browser_support import OfflinePage, switch_language
from tests.conftest import ROLE_USERS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CJK = re.compile(r"[\u2e80-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
EXTRA_PAGES = ("data-exchange", "household-import-page", "members-page", "api-docs")
ROOTS = "#map-root, #staffing-root, #planner-root, #leader-root"  # the pages that say when their data is in

# Every visible text of the page: text nodes of rendered elements (an option's visibility is its select's),
# the document title, and the placeholder / title / aria-label / alt / button value of rendered elements.
VISIBLE_TEXT = """() => {
  const seen = (el) => el.checkVisibility({visibilityProperty: true});
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.data.trim() || el.closest("script, style, noscript, template, select[name=language]")) { continue; }
    const owner = el.closest("select") || el;
    if (seen(owner)) { out.push(n.data.trim()); }
  }
  document.querySelectorAll("[placeholder], [title], [aria-label], [alt], input[type=button], input[type=submit]")
    .forEach((el) => {
      if (!seen(el)) { return; }
      ["placeholder", "title", "aria-label", "alt"].forEach((a) => el.hasAttribute(a) && out.push(el.getAttribute(a)));
      if (el.tagName === "INPUT" && el.value) { out.push(el.value); }
    });
  return out;
}"""


def data_values(user) -> list[str]:
    """The data values this user may see that are written in Chinese, longest first: names, codes, addresses
    (and their masked forms) of the user's scope, people's names, and the accounts' full names."""
    from gridmap.models import HelpPair

    values: set[str] = set()
    for queryset, fields in (
        (policy.streets_for(user), ("name",)),
        (policy.communities_for(user), ("name",)),
        (policy.grids_for(user), ("name",)),
        (policy.stations_for(user), ("name", "opening_hours", "services")),
        (policy.reference_features_for(user), ("name",)),
        (policy.members_for(user), ("name", "employer")),
        (policy.households_for(user), ("address", "head_name")),
        (HelpPair.objects.filter(household__in=policy.households_for(user)), ("unit",)),
    ):
        for row in queryset.values_list(*fields):
            values.update(v for v in row if v)
    values.update(policy.mask_name(v) for v in list(values))
    for first, last in get_user_model().objects.values_list("first_name", "last_name"):
        values.update({first, last, f"{first} {last}", f"{last}{first}", f"{first}{last}"} - {"", " "})
    return sorted((v for v in values if CJK.search(v)), key=len, reverse=True)


def untranslated(texts: list[str], allowed: list[str]) -> list[str]:
    """The texts left with a CJK character once every allowed data value is taken out."""
    left = []
    for text in texts:
        if not CJK.search(text):
            continue
        rest = text
        for value in allowed:
            if value in rest:
                rest = rest.replace(value, " ")
        if CJK.search(rest):
            left.append(text)
    return left


def _settle(page) -> None:
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.wait_for_function(
        f"() => [...document.querySelectorAll({ROOTS!r})].every((r) => r.dataset.loaded === 'true')", timeout=60_000
    )
    if "/api/docs/" in page.url:
        page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    page.wait_for_timeout(300)


def _pages(user, page, base_url: str) -> list[str]:
    """The menu's pages, then the extra pages this role is served (200). Asked through the browser: a test
    client's login would lock the user's row until this test's transaction ends, and the server's too."""
    urls = [reverse(name) for name, _ in policy.navigation(user)]
    for name in EXTRA_PAGES:
        url = reverse(name)
        if url not in urls and page.goto(base_url + url).status == 200:
            urls.append(url)
    return urls


def test_the_helpers_find_chinese_outside_data_values():
    allowed = ["幸福里社区", "张**"]
    assert untranslated(["Export：", "1 gaps", "Grid 幸福里社区 · 张**", "OK"], allowed) == ["Export："]
    assert untranslated(["幸福里社区 网格"], allowed) == ["幸福里社区 网格"]


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_page_of_every_role_is_english_after_switching(browser, live_app, role):
    user = get_user_model().objects.get(username=ROLE_USERS[role])
    allowed = data_values(user)
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.login(user.username)
    page = view.page
    # Switch with the top bar's own language menu, as a user does.
    switch_language(page, "en")
    _settle(page)
    assert page.evaluate("document.documentElement.lang") == "en"
    urls = _pages(user, page, live_app)
    assert len(urls) >= 2, urls
    found = {}
    for url in urls:
        page.goto(live_app + url)
        _settle(page)
        if url != reverse("api-docs"):  # drf-spectacular's Swagger page declares no language
            assert page.evaluate("document.documentElement.lang") == "en", url
        left = untranslated(page.evaluate(VISIBLE_TEXT), allowed)
        if left:
            found[url] = sorted(set(left))
        shown = page.evaluate("""() => [...document.querySelectorAll('[hidden]')]
            .filter((e) => getComputedStyle(e).display !== 'none').map((e) => e.id || e.className || e.tagName)""")
        if shown:  # a page's display rule (flex, grid) once beat "hidden": the bulk bar showed with nothing to tick
            found[url + " hidden but shown"] = shown
        signout = page.locator(".topbar .signout")
        if signout.count():  # a page's own styles must not leak into the top bar (the editor's once made it white)
            colours = signout.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
            if colours != ["rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"]:
                found[url + " sign-out colours"] = colours
    assert found == {}, found
    assert view.outside == []
    view.context.close()


def test_the_login_page_switches_to_english(browser, live_app):
    view = OfflinePage(browser, live_app, viewport={"width": 360, "height": 740}, is_mobile=True)
    page = view.page
    page.goto(live_app + "/accounts/login/")
    switch_language(page, "en")
    assert untranslated(page.evaluate(VISIBLE_TEXT), []) == []
    _fits(page, 360, ".brand", "select[name=language]")
    view.context.close()


def _fits(page, width: int, *selectors: str) -> None:
    """Each element is shown whole: inside the viewport and not clipped by its own box."""
    for selector in selectors:
        element = page.locator(selector)
        assert element.is_visible(), selector
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (selector, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"], (selector, box)
        assert element.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1"), selector  # no ellipsis, no cut
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.evaluate(
        "(() => { const t = document.querySelector('.topbar'); return t.scrollWidth <= t.clientWidth; })()"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("width", [360, 390])
@pytest.mark.parametrize("role", ["system_admin", "street_admin", "grid_leader"])
def test_the_top_bar_fits_a_phone(browser, live_app, role, width, language):
    view = OfflinePage(browser, live_app, viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True)
    view.context.add_cookies([{"name": "django_language", "value": language, "url": live_app}])
    view.login(ROLE_USERS[role])
    page = view.page
    bar = ".brand", "select[name=language]", ".topbar .signout", ".topbar .menu-toggle"
    _fits(page, width, *bar)
    links = page.locator(".topbar a.navlink")
    assert links.count() == len(policy.navigation(get_user_model().objects.get(username=ROLE_USERS[role])))
    assert not links.first.is_visible()  # folded into the menu button, not cut
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"topbar_{role}_{width}_{language}.png"))
    page.click(".topbar .menu-toggle")
    assert page.locator(".topbar .menu-toggle").get_attribute("aria-expanded") == "true"
    for i in range(links.count()):
        _fits(page, width, f".topbar a.navlink >> nth={i}")
    _fits(page, width, *bar)  # the open menu moves none of them
    page.screenshot(path=str(ARTIFACTS / f"topbar_{role}_{width}_{language}_open.png"))
    with page.expect_navigation():
        links.last.click()
    assert page.url.endswith(links.last.get_attribute("href"))
    view.context.close()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_desktop_top_bar_shows_the_whole_menu(browser, live_app, language):
    view = OfflinePage(browser, live_app, viewport={"width": 1280, "height": 800})
    view.context.add_cookies([{"name": "django_language", "value": language, "url": live_app}])
    view.login(ROLE_USERS["system_admin"])
    page = view.page
    assert not page.locator(".topbar .menu-toggle").is_visible()
    links = page.locator(".topbar a.navlink")
    for i in range(links.count()):
        _fits(page, 1280, f".topbar a.navlink >> nth={i}")
    _fits(page, 1280, ".brand", "select[name=language]", ".topbar .signout", ".topbar .who")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"topbar_desktop_{language}.png"))
    view.context.close()
