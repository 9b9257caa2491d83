"""Acting on the sandbox page the way a person does: typing, clicking buttons, uploading."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import VIEWPORT

TIMEOUT = 10_000  # ms; every step is one round trip through the real bot


class SandboxPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    @classmethod
    async def open(cls, browser: Any, url: str) -> SandboxPage:
        """A tab in a browser context of its own (its own storage, its own connections)."""
        sp = cls(await browser.new_page(viewport=VIEWPORT))
        await sp.page.goto(url)
        await sp.live()
        return sp

    @classmethod
    async def open_in(cls, context: Any, url: str, *, timeout: float = TIMEOUT) -> SandboxPage:
        """Another tab of ``context``: tabs of one context share storage and the browser's
        connections to the sandbox (at most six at a time over HTTP/1.1)."""
        sp = cls(await context.new_page())
        await sp.page.goto(url, timeout=timeout)
        await sp.live()
        return sp

    async def live(self) -> None:
        """Wait until the page receives live updates."""
        await expect(self.page.locator("body")).to_have_attribute("data-live", "1", timeout=TIMEOUT)

    def pane(self, key: str) -> Locator:
        return self.page.locator(f"#pane-{key}")

    def bot_messages(self, key: str, text: str) -> Locator:
        return self.pane(key).locator(".msg.bot", has_text=text)

    async def count(self, key: str, text: str) -> int:
        return await self.bot_messages(key, text).count()

    async def wait_bot(self, key: str, text: str, *, before: int = 0) -> Locator:
        """The newest bot message containing ``text``, once there are more than ``before``."""
        await expect(self.bot_messages(key, text).nth(before)).to_be_visible(timeout=TIMEOUT)
        return self.bot_messages(key, text).last

    async def say(self, key: str, text: str, expect_text: str | None = None) -> Locator | None:
        before = await self.count(key, expect_text) if expect_text else 0
        box = self.pane(key).locator(".composer .txt")
        await box.fill(text)
        await box.press("Enter")
        return await self.wait_bot(key, expect_text, before=before) if expect_text else None

    async def tap(self, key: str, message_text: str, button: str, *, expect_text: str | None = None,
                  expect_in: str | None = None) -> None:
        """Click ``button`` on the newest bot message containing ``message_text``; with
        ``expect_text`` wait for a new bot message in ``expect_in`` (default: the same pane)."""
        where = expect_in or key
        before = await self.count(where, expect_text) if expect_text else 0
        msg = self.bot_messages(key, message_text).last
        target = msg.locator(".ib", has_text=button).first
        await expect(target).to_be_enabled(timeout=TIMEOUT)
        await target.click()
        if expect_text:
            await self.wait_bot(where, expect_text, before=before)

    async def pick(self, key: str, message_text: str, button: str, then: str) -> None:
        """Click ``button``; the same message is edited to offer ``then``."""
        await self.tap(key, message_text, button)
        await expect(self.bot_messages(key, message_text).last.locator(".ib", has_text=then).first).to_be_visible(
            timeout=TIMEOUT)

    async def upload(self, key: str, name: str, mime: str, content: bytes, expect_text: str) -> Locator:
        before = await self.count(key, expect_text)
        await self.pane(key).locator('.composer input[type="file"]').set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": content}])
        return await self.wait_bot(key, expect_text, before=before)

    async def advance(self, action: str) -> str:
        """Click a clock button; returns the time the server moved to, once the page shows a change."""
        text = self.page.locator("#clock-text")
        old = await text.inner_text()
        async with self.page.expect_response(lambda r: r.url.endswith("/api/clock") and r.request.method == "POST",
                                             timeout=TIMEOUT) as answered:
            await self.page.locator(f'[data-advance="{action}"]').click()
        shown = (await (await answered.value).json())["text"]
        await expect(text).not_to_have_text(old, timeout=TIMEOUT)  # the page took it in
        return shown  # the server's answer: a minute tick of the page's own poll cannot stand in for it

    async def screenshot(self, path: Any, *, full_page: bool = False) -> None:
        await self.page.screenshot(path=str(path), full_page=full_page)
