// The sandbox page: live panes, taps, sending, uploads, the clock bar, the tour. The server
// renders every chat (escaped); this script only swaps in those fragments and sends what a
// persona does to the emulator's user-side interface. Live updates come through live.js (one
// event stream shared by all tabs), texts go out through outbox.js (kept while the sandbox is
// down, sent once when it is back).
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("sandbox-config").textContent);
  const paneState = {};
  const MAX_UPLOAD = 50 * 1024 * 1024;  // as sandbox/web.py accepts
  const OFFLINE = "Sandbox tidak dapat dihubungi. Pastikan sandbox masih berjalan (python main.py sandbox).";

  function pane(key) { return document.getElementById("pane-" + key); }

  // A failed request, in Indonesian; "retry" when the sandbox was not reached or not ready (the
  // browser's own "Failed to fetch" is never shown).
  function failure(message, retry) {
    const e = new Error(message);
    e.retry = retry;
    return e;
  }

  async function post(url, body) {
    const init = { method: "POST", headers: { "X-Sandbox": "1" } };
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    let r;
    try {
      r = await fetch(url, init);
    } catch (e) {
      throw failure(OFFLINE, true);
    }
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      const retry = r.status === 502 || r.status === 503 || r.status === 504;
      throw failure(data.error || (retry ? OFFLINE : "Permintaan gagal (HTTP " + r.status + ")."), retry);
    }
    return data;
  }

  // A notice under the top bar for what is not any pane's own (the clock, the connection).
  function notice(text) {
    const n = document.getElementById("notice");
    n.textContent = text || "";
    n.hidden = !text;
  }

  // ------------------------------------------------------------------ panes
  function applyPane(key, data) {
    const p = pane(key);
    if (!p) return;
    const chat = p.querySelector(".chat");
    const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 60;
    const lastBefore = Number(p.dataset.last || 0);
    chat.innerHTML = data.html;
    p.querySelector(".rkb").innerHTML = data.keyboard;
    p.querySelector(".txt").placeholder = data.placeholder || "Tulis pesan…";
    p.querySelector(".start-wrap").hidden = data.started;
    const menu = p.querySelector(".menu");
    menu.replaceChildren(...data.commands.map((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "menu-item";
      b.dataset.cmd = "/" + c.command;
      const strong = document.createElement("b");
      strong.textContent = "/" + c.command;
      b.append(strong, " " + c.description);
      return b;
    }));
    p.dataset.last = String(data.last);
    p.dataset.version = String(Number(p.dataset.version || 0) + 1);
    if (atBottom || data.last !== lastBefore) chat.scrollTop = chat.scrollHeight;
  }

  async function refreshPane(key) {
    const s = (paneState[key] = paneState[key] || { busy: false, dirty: false });
    if (s.busy) { s.dirty = true; return; }
    s.busy = true;
    try {
      do {
        s.dirty = false;
        const r = await fetch("/api/chat/" + encodeURIComponent(key));
        if (!r.ok) break;
        applyPane(key, await r.json());
      } while (s.dirty);
    } catch (e) {
      /* the event stream reconnects and refreshes everything */
    } finally {
      s.busy = false;
    }
  }

  function refreshAll() {
    cfg.personas.forEach((p) => refreshPane(p.key));
    refreshClock();
  }

  function toast(key, text, alert) {
    const p = pane(key);
    if (!p) return;
    if (alert) {
      const box = p.querySelector(".alert");
      box.querySelector(".alert-text").textContent = text;
      box.hidden = false;
      return;
    }
    const t = p.querySelector(".toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(t._timer);
    t._timer = setTimeout(() => { t.hidden = true; }, 2500);
  }

  function typing(key) {
    const p = pane(key);
    if (!p) return;
    const status = p.querySelector(".chat-head .status");
    status.textContent = "mengetik…";
    clearTimeout(status._timer);
    status._timer = setTimeout(() => { status.textContent = "bot"; }, 5000);
  }

  // ------------------------------------------------------------------ clock
  function showClock(state) {
    document.getElementById("clock-text").textContent = state.text;
    const st = document.getElementById("clock-state");
    st.textContent = state.working ? "jam kerja" : "di luar jam kerja";
    st.className = "clock-state " + (state.working ? "on" : "off");
    document.getElementById("clock").dataset.iso = state.iso;
  }

  async function refreshClock() {
    try {
      const r = await fetch("/api/clock");
      if (r.ok) showClock(await r.json());
    } catch (e) { /* retried by the timer */ }
  }

  // ------------------------------------------------------------------ sending text
  // Texts go through the outbox (outbox.js): kept while the sandbox cannot be reached, shown as
  // waiting under the chat with a notice, sent once when it is back.
  const WAITING = "Sandbox tidak dapat dihubungi. Pesan Anda disimpan dan akan dikirim otomatis setelah " +
    "sandbox aktif kembali.";
  const outbox = SandboxOutbox.create({
    send: (m) => post("/api/send", { persona: m.persona, text: m.text, random_id: m.id }),
    onChange: showOutbox,
    onRefused: (m, e) => toast(m.persona, e.message, false),
  });

  function showOutbox(items) {
    cfg.personas.forEach((p) => {
      const el = pane(p.key);
      if (!el) return;
      const waiting = items.filter((m) => m.persona === p.key && m.waiting);
      el.querySelector(".outbox").replaceChildren(...waiting.map((m) => {
        const msg = document.createElement("div");
        msg.className = "msg me queued";
        const text = document.createElement("div");
        text.className = "text pending";
        text.textContent = m.text;
        const meta = document.createElement("div");
        meta.className = "meta";
        meta.textContent = "menunggu sandbox";
        msg.append(text, meta);
        return msg;
      }));
      const note = el.querySelector(".notice");
      note.hidden = waiting.length === 0;
      note.textContent = waiting.length ? WAITING : "";
    });
  }

  function sendText(key, text) {
    outbox.add(key, text);
  }

  // ------------------------------------------------------------------ acting
  async function act(key, fn) {
    try {
      await fn();
    } catch (e) {
      toast(key, e.message, false);
    }
  }

  function startPayload(href) {
    try {
      const u = new URL(href, location.href);
      const host = u.hostname.toLowerCase();
      const path = u.pathname.replace(/^\/+/, "").toLowerCase();
      if ((host === "t.me" || host === "telegram.me") && path === cfg.bot.toLowerCase()) {
        return u.searchParams.get("start") || "";
      }
    } catch (e) { /* not a URL */ }
    return null;
  }

  function openAs(href, payload) {
    const modal = document.getElementById("open-as");
    document.getElementById("open-as-link").textContent = href;
    const choices = document.getElementById("open-as-choices");
    choices.replaceChildren(...cfg.personas.map((p) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.persona = p.key;
      b.textContent = p.name + " — " + p.title;
      b.addEventListener("click", () => {
        modal.hidden = true;
        sendText(p.key, payload ? "/start " + payload : "/start");
      });
      return b;
    }));
    modal.hidden = false;
  }

  function onPaneClick(ev) {
    const p = ev.target.closest(".pane");
    if (!p) return;
    const key = p.dataset.persona;
    const el = ev.target;
    const ib = el.closest(".ib[data-cb]");
    if (ib) {
      const msg = ib.closest(".msg");
      ib.classList.add("busy");
      act(key, () => post("/api/tap", { persona: key, message_id: Number(msg.dataset.mid), data: ib.dataset.cb }))
        .finally(() => ib.classList.remove("busy"));
      return;
    }
    const copy = el.closest(".ib[data-copy]");
    if (copy) {
      navigator.clipboard.writeText(copy.dataset.copy).then(() => toast(key, "Disalin.", false), () => {});
      return;
    }
    const rb = el.closest(".rb");
    if (rb) {
      act(key, () => post("/api/press", { persona: key, text: rb.dataset.text }));
      return;
    }
    const cmd = el.closest("[data-cmd]");
    if (cmd) {
      ev.preventDefault();
      p.querySelector(".menu").hidden = true;
      sendText(key, cmd.dataset.cmd);
      return;
    }
    const link = el.closest("a[href]");
    if (link) {
      const payload = startPayload(link.getAttribute("href"));
      if (payload !== null) {
        ev.preventDefault();
        openAs(link.getAttribute("href"), payload);
      }
      return;
    }
    const spoiler = el.closest(".spoiler");
    if (spoiler) { spoiler.classList.toggle("shown"); return; }
    if (el.closest(".start")) { sendText(key, "/start"); return; }
    if (el.closest(".attach")) {
      p.querySelector('.composer input[type="file"]').click();
      return;
    }
    if (el.closest(".contact-btn")) {
      act(key, () => post("/api/contact", { persona: key }));
      return;
    }
    if (el.closest(".menu-btn")) {
      const menu = p.querySelector(".menu");
      menu.hidden = !menu.hidden;
      return;
    }
    if (el.closest(".alert-ok")) { p.querySelector(".alert").hidden = true; }
  }

  function onSubmit(ev) {
    const form = ev.target.closest(".composer");
    if (!form) return;
    ev.preventDefault();
    const key = form.closest(".pane").dataset.persona;
    const input = form.querySelector(".txt");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendText(key, text);
  }

  function onFile(ev) {
    const input = ev.target;
    if (!input.matches('.composer input[type="file"]') || !input.files.length) return;
    const key = input.closest(".pane").dataset.persona;
    const file = input.files[0];
    input.value = "";
    if (file.size > MAX_UPLOAD) {  // Telegram's own limit for a user's upload
      toast(key, "Berkas terlalu besar: paling besar 50 MB.", true);
      return;
    }
    const fd = new FormData();
    fd.append("persona", key);
    fd.append("file", file);
    act(key, () => post("/api/upload", fd));
  }

  function setupClock() {
    document.querySelectorAll("[data-advance]").forEach((b) => {
      b.addEventListener("click", async () => {
        const buttons = document.querySelectorAll("#clock button");
        buttons.forEach((x) => { x.disabled = true; });
        try {
          showClock(await post("/api/clock", { action: b.dataset.advance }));
          notice("");
        } catch (e) {
          notice(e.message);
        } finally {
          buttons.forEach((x) => { x.disabled = false; });
        }
      });
    });
    document.getElementById("reset").addEventListener("click", async () => {
      if (!confirm("Hapus semua data sandbox (percakapan, permohonan, akun SPLP) dan mulai dari awal?")) return;
      try {
        await post("/api/reset", {});
      } catch (e) {
        notice(e.message);
        return;
      }
      location.reload();
    });
    setInterval(refreshClock, 20000);
  }

  // ------------------------------------------------------------------ live updates
  function connect() {
    const conn = document.getElementById("conn");
    let first = true;
    SandboxLive.connect((ev) => {
      switch (ev.type) {
        case "hello":
          if (ev.epoch !== cfg.epoch) { location.reload(); return; }  // restarted or reset: kept texts stay
          conn.classList.add("live");
          conn.title = "Terhubung: pembaruan langsung";
          document.body.dataset.live = "1";
          notice("");
          // Reconnected, or joined a stream already running: something may have been missed.
          if (!first || ev.replay) refreshAll();
          first = false;
          outbox.flush();
          break;
        case "down":
          conn.classList.remove("live");
          conn.title = "Terputus: menyambung kembali…";
          document.body.dataset.live = "";
          if (!first) notice("Sandbox tidak dapat dihubungi. Menyambung kembali…");
          break;
        case "chat": refreshPane(ev.persona); break;
        case "toast": toast(ev.persona, ev.text, ev.alert); break;
        case "typing": typing(ev.persona); break;
        case "clock": showClock(ev.clock); break;
        case "reset": location.reload(); break;
        case "resync": refreshAll(); break;
      }
    });
  }

  // The bar's height, for the CSS that fits a pane below it (it wraps on narrow screens).
  function trackBar() {
    const bar = document.getElementById("topbar");
    const set = () => document.documentElement.style.setProperty("--bar-h", bar.offsetHeight + "px");
    set();
    if (window.ResizeObserver) new ResizeObserver(set).observe(bar);
  }

  // The tour is open on the first visit only (remembered in this browser).
  function setupTour() {
    const TOUR_KEY = "splp-sandbox:tour-seen";
    try {
      if (!localStorage.getItem(TOUR_KEY)) {
        document.getElementById("tour").open = true;
        localStorage.setItem(TOUR_KEY, "1");
      }
    } catch (e) {
      document.getElementById("tour").open = true;  // nothing remembered: always shown
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const panes = document.getElementById("panes");
    panes.addEventListener("click", onPaneClick);
    panes.addEventListener("submit", onSubmit);
    panes.addEventListener("change", onFile);
    document.getElementById("open-as-cancel").addEventListener("click", () => {
      document.getElementById("open-as").hidden = true;
    });
    trackBar();
    setupTour();
    document.querySelectorAll(".pane .chat").forEach((c) => { c.scrollTop = c.scrollHeight; });
    setupClock();
    showOutbox(outbox.items);  // texts kept from before a reload: shown, and sent once the sandbox answers
    connect();
  });
})();
