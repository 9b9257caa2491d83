"""The sandbox page's connection: eight tabs of one browser all live (the browser allows six
HTTP/1.1 connections per address, so tabs share one event stream, or poll without a
SharedWorker), and a message typed while the sandbox is stopped is kept, said so in Indonesian,
and sent once when it is back."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.run import PERSONA_BY_KEY, Sandbox
from tests.conftest import IN_CI, SANDBOX_TEST_SETTINGS

if not IN_CI:  # under CI a missing Playwright fails (conftest), elsewhere it skips
    pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install -e '.[test]')")

from playwright.async_api import expect  # noqa: E402

from tests.browser.page import TIMEOUT, SandboxPage  # noqa: E402

TAB = {"width": 1200, "height": 800}
REQ = PERSONA_BY_KEY["requester"].user_id


async def _tabs(browser, url: str, n: int, *, shared_worker: bool):  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport=TAB)
    if not shared_worker:  # as in a browser without SharedWorker (Chrome on Android, say)
        await ctx.add_init_script("delete window.SharedWorker;")
    return ctx, list(await asyncio.gather(*(SandboxPage.open_in(ctx, url) for _ in range(n))))


async def test_eight_tabs_of_one_browser_are_all_live(browser, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    # With a SharedWorker: one event stream for the whole browser.
    ctx, tabs = await _tabs(browser, sandbox.url, 8, shared_worker=True)
    try:
        assert sandbox.web.live_streams == 1
        # What one tab does, every other tab sees, the eighth included, and the other way round.
        await tabs[0].say("requester", "/ajukan", "Perangkat Daerah")
        for tab in tabs[1:]:
            await tab.wait_bot("requester", "Perangkat Daerah")
        await tabs[7].say("admin", "/bantuan", "Bantuan")
        await tabs[0].wait_bot("admin", "Bantuan")
        clock = await tabs[3].advance("hour")
        for tab in tabs:
            await expect(tab.page.locator("#clock-text")).to_have_text(clock, timeout=TIMEOUT)
        assert sandbox.web.live_streams == 1
        assert all(tab.errors == [] for tab in tabs)
    finally:
        await ctx.close()

    # Without one, each tab polls: no connection is held open, the eighth tab is live too.
    ctx, tabs = await _tabs(browser, sandbox.url, 8, shared_worker=False)
    try:
        await tabs[7].say("requester", "dinkes", "nomor surat")
        await tabs[0].wait_bot("requester", "nomor surat")
        assert sandbox.web.live_streams == 0
        assert all(tab.errors == [] for tab in tabs)
    finally:
        await ctx.close()


NOTICE = "Sandbox tidak dapat dihubungi"


async def test_a_message_typed_while_the_sandbox_is_stopped_is_kept_and_sent_once(  # type: ignore[no-untyped-def]
        browser, sandbox: Sandbox, request: pytest.FixtureRequest, artifacts) -> None:
    assert sandbox.emu is not None
    sp = await SandboxPage.open(browser, sandbox.url)
    pane = sp.pane("requester")

    # An uncertain failure: the sandbox gets the message but the answer never reaches the page.
    # The page says so, keeps the message, and sending it again does not deliver it twice.
    lost = []

    async def lose_answer(route):  # type: ignore[no-untyped-def]
        if not lost:
            lost.append(await route.fetch())
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await sp.page.route("**/api/send", lose_answer)
    await sp.say("requester", "/ajukan")
    await expect(pane.locator(".notice")).to_contain_text(NOTICE, timeout=TIMEOUT)
    await sp.wait_bot("requester", "Perangkat Daerah")
    await expect(pane.locator(".notice")).to_be_hidden(timeout=TIMEOUT)
    await expect(pane.locator(".pending")).to_have_count(0)
    assert lost and lost[0].ok
    assert [m.text for m in sandbox.emu.chat(REQ) if not m.from_bot] == ["/ajukan"]
    await sp.page.unroute("**/api/send")

    # The sandbox stops (Ctrl+C). Sending says so in Indonesian and keeps the text.
    port = int(sandbox.url.rsplit(":", 1)[1])
    await sandbox.stop()
    await expect(sp.page.locator("body")).not_to_have_attribute("data-live", "1", timeout=TIMEOUT)
    await sp.say("requester", "dinkes")
    await expect(pane.locator(".notice")).to_contain_text(NOTICE, timeout=TIMEOUT)
    await expect(pane.locator(".pending")).to_have_text("dinkes")
    assert "Failed to fetch" not in await sp.page.locator("body").inner_text()
    await sp.page.locator("[data-advance='hour']").click()  # other actions say it too, in Indonesian
    await expect(sp.page.locator("#notice")).to_contain_text(NOTICE, timeout=TIMEOUT)
    await sp.screenshot(artifacts / "offline-kept.png")

    # The sandbox starts again on the same port (a new process: the page reloads): the message is
    # sent, once, and the form goes on.
    again = Sandbox(sandbox.data_dir, port=port, settings=SANDBOX_TEST_SETTINGS)
    await again.start()
    try:
        assert again.emu is not None
        await sp.wait_bot("requester", "nomor surat")
        await expect(pane.locator(".pending")).to_have_count(0)
        await expect(pane.locator(".notice")).to_be_hidden()
        assert [m.text for m in again.emu.chat(REQ) if not m.from_bot] == ["/ajukan", "dinkes"]
        assert [e for e in sp.errors if "Failed to load resource" not in e] == []
    finally:
        emu = again.emu
        await again.stop()
        if emu is not None:
            from tests.e2e.harness import fail_on_refusals
            fail_on_refusals(emu, request)
