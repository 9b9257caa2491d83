"""The emulator as Telegram's webhook side: setWebhook, delivery with the secret token header,
retries on non-2xx with the error shown in getWebhookInfo, a chat's updates in order."""

from __future__ import annotations

import asyncio

import httpx
from aiohttp import web

from sandbox.telegram import TelegramEmulator


async def test_webhook_delivery_retries_and_order() -> None:
    got: list[tuple[int, str, str]] = []
    refuse = {"left": 2}

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        text = update["message"]["text"]
        if text == "kedua" and refuse["left"]:
            refuse["left"] -= 1
            return web.Response(status=502)
        got.append((update["message"]["chat"]["id"], text, request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    emu = TelegramEmulator()
    await emu.start()
    api = f"{emu.api_url}/bot{emu.token}"
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(f"{api}/setWebhook", json={"url": f"http://127.0.0.1:{port}/hook"})
            assert r.status_code == 400 and "HTTPS URL must be provided" in r.json()["description"]
            emu.allow_http_webhook = True  # as the local Bot API server allows
            r = await c.post(f"{api}/setWebhook", json={"url": f"http://127.0.0.1:{port}/hook", "secret_token": "a b"})
            assert r.status_code == 400
            r = await c.post(f"{api}/setWebhook", json={"url": f"http://127.0.0.1:{port}/hook",
                                                        "secret_token": "rahasia_1"})
            assert r.json() == {"ok": True, "result": True}
            for text in ("pertama", "kedua", "ketiga"):
                emu.send_text(7001, text)
            emu.send_text(7002, "lain")
            await emu.wait_for(lambda: len(got) == 4, timeout=5)
            # The chat's order held through the refusals; the other chat was not held up.
            assert [t for c_, t, _ in got if c_ == 7001] == ["pertama", "kedua", "ketiga"]
            assert all(secret == "rahasia_1" for _, _, secret in got)
            assert [d["status"] for d in emu.webhook_deliveries].count(502) == 2
            info = (await c.get(f"{api}/getWebhookInfo")).json()["result"]
            assert info["pending_update_count"] == 0 and info["last_error_message"].startswith(
                "Wrong response from the webhook: 502")
            assert (await c.post(f"{api}/getUpdates", json={})).status_code == 409
            await c.post(f"{api}/deleteWebhook", json={})
            emu.send_text(7001, "sesudah")
            await asyncio.sleep(0.2)
            assert len(got) == 4  # no webhook: the update waits for getUpdates
            ups = (await c.post(f"{api}/getUpdates", json={})).json()["result"]
            assert [u["message"]["text"] for u in ups] == ["sesudah"]
    finally:
        await emu.stop()
        await runner.cleanup()
