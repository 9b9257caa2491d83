"""The sandbox page in a real browser: procedure A played by clicking through every persona's
pane, a reminder after moving the clock, layout under a long message and a wide keyboard, and
two tabs sharing one state."""

from __future__ import annotations

import httpx
import pytest

from sandbox.run import PERSONA_BY_KEY, Sandbox
from tests.conftest import IN_CI
from tests.e2e.harness import PDF

if not IN_CI:  # under CI a missing Playwright fails (conftest), elsewhere it skips
    pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install -e '.[test]')")

from playwright.async_api import expect  # noqa: E402

from tests.browser.page import TIMEOUT, SandboxPage  # noqa: E402

USERNAME = "dinkes.simpus.kota.bogor"


async def test_procedure_a_by_clicking_through_the_panes(browser, sandbox: Sandbox, artifacts) -> None:  # type: ignore[no-untyped-def]
    sp = await SandboxPage.open(browser, sandbox.url)
    await expect(sp.page.locator("#clock-text")).to_have_text("Senin, 30 November 2026 09.00 WIB")
    await expect(sp.page.locator("#clock-state")).to_have_text("jam kerja")

    # Step 1: the requester fills in the form by typing, tapping and uploading the scan.
    await sp.say("requester", "/ajukan", "Perangkat Daerah")
    await sp.say("requester", "dinkes", "nomor surat")
    await sp.say("requester", "000.1/123-Dinkes/2026", "tanggal surat")
    await sp.say("requester", "27-11-2026", "perihal")
    await sp.tap("requester", "perihal", "Gunakan", expect_text="nama lengkap narahubung")
    await sp.say("requester", "Siti Aminah", "email")
    await sp.say("requester", "siti.aminah@kotabogor.go.id", "nomor ponsel")
    await sp.say("requester", "0812-3456-7890", "nama aplikasi")
    await sp.say("requester", "SIMPUS Kota Bogor", "proses bisnis")
    await sp.say("requester", "Aplikasi SIMPUS mengirim data kunjungan pasien puskesmas ke Satu Data "
                              "Kota Bogor melalui SPLP setiap hari.", "pindaian")
    await sp.upload("requester", "surat.pdf", "application/pdf", PDF, "Ringkasan permohonan")
    await expect(sp.pane("requester").locator(".msg.me .doc-name", has_text="surat.pdf")).to_be_visible()
    await sp.tap("requester", "Ringkasan permohonan", "Kirim", expect_text="telah diterima dengan nomor")
    await sp.screenshot(artifacts / "a1-request-sent.png")

    # Step 2: the Head holds it. Time passes past the step's limit: the breach notice alone comes
    # (the 50 % and 90 % reminders it supersedes are not sent late).
    await sp.wait_bot("head", "Disposisikan kepada")
    clock = await sp.advance("working_day")
    assert clock.startswith("Selasa, 1 Desember 2026 09.0"), clock
    await sp.wait_bot("head", "Batas waktu terlampaui")
    await expect(sp.bot_messages("head", "Pengingat")).to_have_count(0)
    await sp.screenshot(artifacts / "a2-reminder.png")
    await sp.pick("head", "Disposisikan kepada", "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    await sp.tap("head", "Disposisikan kepada", "Kirim tanpa catatan")
    await expect(sp.pane("head").locator(".toast")).to_have_text("Disposisi terkirim.", timeout=TIMEOUT)

    # Step 3: the division head, then the team lead picks the executor.
    await sp.wait_bot("division", "Disposisikan kepada")
    await sp.pick("division", "Disposisikan kepada", "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    await sp.tap("division", "Disposisikan kepada", "Kirim tanpa catatan")
    await sp.wait_bot("team", "Pelaksana")
    await sp.pick("team", "Pelaksana", "Budi Pranoto", "Untuk ditindaklanjuti")
    await sp.pick("team", "Pelaksana", "Untuk ditindaklanjuti", "Kirim tanpa catatan")
    await sp.tap("team", "Pelaksana", "Kirim tanpa catatan")

    # Steps 4-5: completeness, then the account is created in the SPLP sandbox (wso2 mode).
    await sp.wait_bot("executor", "Pemeriksaan kelengkapan")
    await sp.tap("executor", "Pemeriksaan kelengkapan", "Lengkap", expect_text="Kartu data untuk portal SPLP")
    await sp.tap("executor", "Kartu data untuk portal SPLP", "Daftarkan otomatis", expect_text="Nama pengguna:")
    assert sandbox.splp is not None and sandbox.splp.user(USERNAME) is not None

    # The requester opens the personal link as the contact person, who shares their own number.
    link = (await sp.wait_bot("requester", "?start=cp_")).locator("a[href*='?start=cp_']")
    await link.click()
    await expect(sp.page.locator("#open-as")).to_be_visible()
    await sp.page.locator('#open-as-choices button[data-persona="contact"]').click()
    await sp.wait_bot("contact", "membagikan nomor")
    share = sp.pane("contact").locator(".rkb .rb[data-contact]")
    await expect(share).to_be_visible(timeout=TIMEOUT)
    await share.click()
    shared = sp.pane("contact").locator(".msg.me .contact")
    await expect(shared).to_contain_text("Siti Aminah")
    await expect(shared).to_contain_text(PERSONA_BY_KEY["contact"].phone)
    await sp.wait_bot("contact", "terverifikasi")
    await expect(sp.pane("contact").locator(".rkb .rb")).to_have_count(0)  # a one-time keyboard
    await sp.tap("contact", "Tampilkan", "Tampilkan", expect_text="Kata sandi awal")
    await sp.screenshot(artifacts / "a3-credentials.png")
    # "Masuk di …" points to the sandbox's own SPLP, whose page says it is the sandbox.
    portal = sp.bot_messages("contact", "Kata sandi awal").last.locator(f'a[href^="{sandbox.splp.base_url}"]')
    await expect(portal).to_have_count(1)
    assert "splp.layanan.go.id" not in await sp.bot_messages("contact", "Kata sandi awal").last.inner_text()
    page = await sp.page.request.get(await portal.get_attribute("href") or "")
    assert page.ok and "Ini bukan portal SPLP yang sebenarnya" in await page.text()
    # The message goes after 10 sandbox minutes: moving the clock passes them at once (the README's
    # tour says to copy the password before).
    await sp.advance("hour")
    await expect(sp.bot_messages("contact", "Kata sandi awal")).to_have_count(0, timeout=TIMEOUT)

    # Steps 6-7: the report goes to the Head, who forwards it: Selesai, the PDF opens.
    await sp.tap("executor", "Pratinjau laporan kegiatan terlampir", "Kirim ke Kepala")
    await sp.tap("head", "Teruskan kepada pemohon untuk menyelesaikan", "Teruskan kepada pemohon",
                 expect_text="selesai", expect_in="requester")
    report = sp.pane("requester").locator(".msg.bot .doc").last
    await expect(report).to_be_visible(timeout=TIMEOUT)
    href = await report.get_attribute("href")
    assert href and href.startswith("/file/")
    resp = await sp.page.request.get(sandbox.url + href)
    assert resp.ok and resp.headers["content-type"] == "application/pdf"
    assert (await resp.body()).startswith(b"%PDF-")
    await sp.say("requester", "/status", "Selesai")
    # The overview (docs/sandbox.png is this picture): the tour folded, the tap notices gone.
    await sp.page.locator("#tour summary").click()
    await expect(sp.page.locator(".toast:not([hidden])")).to_have_count(0, timeout=TIMEOUT)
    await sp.screenshot(artifacts / "a4-done.png")
    assert sp.errors == []
    assert not sandbox.splp.violations


LONG_WORD = "SPLP" * 90  # 360 characters without a break
LONG_HTML = (
    "<b>Pesan panjang</b> dengan <i>miring</i>, <a href=\"https://splp.layanan.go.id/\">tautan</a> dan "
    "&lt;script&gt;alert(1)&lt;/script&gt;\nbaris kedua\n"
    + LONG_WORD + "\nhttps://example.go.id/" + "jalur/" * 40 + "\n"
    + ("Kalimat biasa yang cukup panjang untuk mengisi pesan. " * 60)
)[:3900]


async def test_long_message_and_ten_button_keyboard_keep_the_layout(browser, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sp = await SandboxPage.open(browser, sandbox.url)
    pane = sp.pane("admin")
    before = await pane.bounding_box()
    assert sandbox.emu is not None
    admin = PERSONA_BY_KEY["admin"].user_id
    api = f"{sandbox.emu.api_url}/bot{sandbox.emu.token}"
    async with httpx.AsyncClient() as c:  # as the bot would send them
        r = await c.post(f"{api}/sendMessage", json={"chat_id": admin, "text": LONG_HTML, "parse_mode": "HTML"})
        assert r.status_code == 200, r.text
        row = [{"text": f"Pilihan nomor {i} yang panjang", "callback_data": f"opt:{i}"} for i in range(10)]
        r = await c.post(f"{api}/sendMessage", json={"chat_id": admin, "text": "Sepuluh tombol:",
                                                     "reply_markup": {"inline_keyboard": [row]}})
        assert r.status_code == 200, r.text
    keyboard = pane.locator(".msg.bot", has_text="Sepuluh tombol").locator(".ib")
    await expect(keyboard).to_have_count(10, timeout=TIMEOUT)
    long_msg = pane.locator(".msg.bot", has_text="Pesan panjang")
    # Formatting as Telegram renders it; the bot's "<script>" stays text.
    await expect(long_msg.locator("b", has_text="Pesan panjang")).to_be_visible()
    await expect(long_msg.locator("i", has_text="miring")).to_be_visible()
    await expect(long_msg.locator('a[href="https://splp.layanan.go.id/"]')).to_have_text("tautan")
    await expect(long_msg.locator(".text")).to_contain_text("<script>alert(1)</script>")
    assert await sp.page.locator(".msg script").count() == 0
    assert "\nbaris kedua\n" in await long_msg.locator(".text").inner_text()

    after = await pane.bounding_box()
    assert before is not None and after is not None
    assert (after["width"], after["height"]) == (before["width"], before["height"])
    chat = pane.locator(".chat")
    widths = await chat.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert widths[0] <= widths[1], f"horizontal overflow in the chat: {widths}"
    chat_box = await chat.bounding_box()
    assert chat_box is not None
    for locator in (long_msg, keyboard.first, keyboard.last):
        box = await locator.bounding_box()
        assert box is not None
        assert chat_box["x"] <= box["x"] and box["x"] + box["width"] <= chat_box["x"] + chat_box["width"] + 0.5
    page_widths = await sp.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert page_widths[0] <= page_widths[1], f"the page scrolls sideways: {page_widths}"
    # The tenth button is still a button: tapping it reaches the bot as a callback query.
    calls = len(sandbox.emu.calls_of("answerCallbackQuery"))
    await keyboard.last.click()
    await sandbox.emu.wait_for(lambda: len(sandbox.emu.calls_of("answerCallbackQuery")) > calls)
    assert sp.errors == []


async def test_two_tabs_share_one_state(browser, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    one = await SandboxPage.open(browser, sandbox.url)
    two = await SandboxPage.open(browser, sandbox.url)
    await one.say("requester", "/ajukan", "Perangkat Daerah")
    await two.wait_bot("requester", "Perangkat Daerah")  # tab two sees what tab one did
    await expect(two.pane("requester").locator(".msg.me", has_text="/ajukan")).to_be_visible()
    await two.tap("requester", "Perangkat Daerah", "Berikutnya")  # the list's next page, an edit
    await expect(one.bot_messages("requester", "Perangkat Daerah").last).to_contain_text("2/", timeout=TIMEOUT)
    clock = await one.advance("hour")
    await expect(two.page.locator("#clock-text")).to_have_text(clock, timeout=TIMEOUT)
    # Reset in one tab: both start over with empty chats and the clock back on Monday 09:00.
    one.page.on("dialog", lambda d: d.accept())
    await one.page.locator("#reset").click()
    for tab in (one, two):
        await expect(tab.pane("requester").locator(".msg")).to_have_count(0, timeout=TIMEOUT)
        await tab.live()
        await expect(tab.page.locator("#clock-text")).to_have_text("Senin, 30 November 2026 09.00 WIB")
    await one.say("requester", "/ajukan", "Perangkat Daerah")
    await two.wait_bot("requester", "Perangkat Daerah")
    assert one.errors == [] and two.errors == []


async def test_a_file_over_the_upload_limit_is_refused_in_the_page(browser, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    sp = await SandboxPage.open(browser, sandbox.url)
    assert sandbox.emu is not None
    requester = PERSONA_BY_KEY["requester"].user_id
    before = len(sandbox.emu.chat(requester))
    await sp.page.evaluate("""() => {
        const input = document.querySelector('#pane-requester .composer input[type="file"]');
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(51 * 1024 * 1024)], "besar.pdf", {type: "application/pdf"}));
        input.files = dt.files;
        input.dispatchEvent(new Event("change", {bubbles: true}));
    }""")
    await expect(sp.pane("requester").locator(".alert-text")).to_have_text("Berkas terlalu besar: paling besar 50 MB.",
                                                                           timeout=TIMEOUT)
    assert len(sandbox.emu.chat(requester)) == before  # nothing was sent
