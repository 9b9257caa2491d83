"""The sandbox page on a phone (390×844) and without an emoji font: a compact bar, the tour
folded after the first visit, the persona's name in sight while typing, icon buttons that are
drawn (SVG) and named, not emoji that a fresh Debian shows as empty boxes."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from sandbox.run import PERSONAS, Sandbox
from tests.conftest import IN_CI

if not IN_CI:  # under CI a missing Playwright fails (conftest), elsewhere it skips
    pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install -e '.[test]')")

from playwright.async_api import expect  # noqa: E402

from tests.browser.page import TIMEOUT, SandboxPage  # noqa: E402

PHONE = {"width": 390, "height": 844}

# Whether an element is on screen and nothing (the sticky bar, another element) covers its middle.
_UNCOVERED = """el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
    const hit = document.elementFromPoint(x, y);
    return hit !== null && (hit === el || el.contains(hit));
}"""


async def test_phone_compact_bar_folded_tour_and_whose_chat_one_types_in(browser, sandbox: Sandbox, artifacts) -> None:  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        sp = await SandboxPage.open_in(ctx, sandbox.url)
        page = sp.page
        # The first visit shows the tour; the bar is compact and keeps every clock action in sight.
        await expect(page.locator("#tour")).to_have_attribute("open", "")
        await sp.screenshot(artifacts / "phone-first-visit.png")
        bar = await page.locator(".topbar").bounding_box()
        assert bar is not None and bar["height"] <= 100, f"the top bar takes {bar} on a phone"
        for control in ('[data-advance="hour"]', '[data-advance="next_start"]', '[data-advance="working_day"]',
                        "#reset", "#clock-text", "#clock-state"):
            assert await page.locator(control).evaluate(_UNCOVERED), f"{control} is not in sight on a phone"
        # Later visits start folded: the first chat is on the first screen.
        await page.reload()
        await sp.live()
        await expect(page.locator("#tour")).not_to_have_attribute("open", "")
        first = await page.locator(".pane").first.bounding_box()
        assert first is not None and first["y"] < PHONE["height"] * 0.25, f"the first chat starts at {first}"
        await sp.screenshot(artifacts / "phone-later-visit.png")

        # Wherever the text box is scrolled into view, the pane says whose chat it is.
        for persona in (PERSONAS[2], PERSONAS[5]):
            pane = sp.pane(persona.key)
            box = pane.locator(".composer .txt")
            names = pane.get_by_text(persona.name, exact=True)
            assert await pane.evaluate("p => p.getBoundingClientRect().height") <= PHONE["height"] - bar["height"]
            for block in ("end", "center", "start"):
                await box.evaluate(f"el => el.scrollIntoView({{block: '{block}'}})")
                assert await box.evaluate(_UNCOVERED), f"{persona.key}: the text box is covered ({block})"
                seen = [await names.nth(i).evaluate(_UNCOVERED) for i in range(await names.count())]
                assert any(seen), f"{persona.key}: no name in sight while its text box is ({block})"
        # Typing as a phone user does: the page scrolls the box into view, the name stays in sight.
        await page.evaluate("() => window.scrollTo(0, 0)")
        head = PERSONAS[2]
        await sp.pane(head.key).locator(".composer .txt").tap()
        await page.keyboard.type("/bantuan")
        names = sp.pane(head.key).get_by_text(head.name, exact=True)
        assert any([await names.nth(i).evaluate(_UNCOVERED) for i in range(await names.count())])
        await sp.screenshot(artifacts / "phone-typing.png")
        await page.keyboard.press("Enter")
        await sp.wait_bot(head.key, "Bantuan")
        assert sp.errors == []
    finally:
        await ctx.close()


# The composer's icon-only controls: each must be named and drawn, never a font glyph.
ICON_BUTTONS = ("Menu perintah", "Lampirkan berkas", "Bagikan kontak saya", "Kirim")
_PICTOGRAPH = re.compile(r"[\u2190-\u2bff\U0001f000-\U0001faff\ufe0f]")


async def test_icon_buttons_are_named_and_drawn_not_emoji(browser, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sp = await SandboxPage.open(browser, sandbox.url)
    # A document in the chat: its icon is drawn too.
    assert sandbox.emu is not None
    sandbox.emu.send_text(PERSONAS[0].user_id, "/ajukan")
    await sp.wait_bot("requester", "Perangkat Daerah")
    for persona in PERSONAS:
        pane = sp.pane(persona.key)
        for name in ICON_BUTTONS:
            button = pane.get_by_role("button", name=name, exact=True)
            await expect(button).to_be_visible()
            text = await button.inner_text()
            assert not _PICTOGRAPH.search(text), f"{persona.key}/{name}: an emoji or symbol glyph {text!r}"
            icon = await button.locator("svg").bounding_box()
            assert icon is not None and icon["width"] >= 14 and icon["height"] >= 14, f"{persona.key}/{name}: {icon}"
    # Nothing of the page's own (bar, tour, panes' frames) relies on an emoji font.
    own_text = await sp.page.evaluate("""() => {
        const copy = document.body.cloneNode(true);
        copy.querySelectorAll(".chat, .rkb, .menu, script").forEach((e) => e.remove());
        return copy.textContent;
    }""")
    assert not _PICTOGRAPH.search(own_text), _PICTOGRAPH.findall(own_text)
    # Attaching still works through the named button (it opens the file chooser).
    async with sp.page.expect_file_chooser(timeout=TIMEOUT) as chooser:
        await sp.pane("requester").get_by_role("button", name="Lampirkan berkas").click()
    assert (await chooser.value).element is not None
    assert sp.errors == []


def _emoji_font_problem() -> str | None:
    if shutil.which("fc-list") is None:
        return "fontconfig's fc-list is missing (it comes with chromium)"
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True, timeout=30).stdout
    if "noto color emoji" not in fonts.lower():
        return "the emoji font is not installed (apt-get install -y fonts-noto-color-emoji; .ci/run does it)"
    return None


async def test_emoji_in_bot_messages_render_in_colour(browser) -> None:  # type: ignore[no-untyped-def]
    """The bot's own messages use emoji (🔐, ⚠️, 📱): with Debian's chromium alone they are empty
    boxes; .ci/run installs fonts-noto-color-emoji, as the README says."""
    problem = _emoji_font_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"under CI=true the emoji font must be installed: {problem}")
        pytest.skip(problem)
    page = await browser.new_page()
    await page.set_content('<html lang="id"><body>Sandbox</body></html>')
    coloured = await page.evaluate("""() => {
        const c = document.createElement("canvas");
        c.width = 240; c.height = 60;
        const g = c.getContext("2d");
        g.font = "40px " + getComputedStyle(document.body).fontFamily;
        g.fillStyle = "#000";
        g.fillText("\\u{1F510}\\u{1F4F1}\\u{1F464}", 4, 46);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
        }
        return n;
    }""")
    assert coloured > 300, f"emoji are drawn without colour ({coloured} coloured pixels): an empty box or nothing"
