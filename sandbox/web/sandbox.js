// The sandbox page: live panes (server-sent events), taps, sending, uploads, the clock bar.
// The server renders every chat (escaped); this script only swaps in those fragments and
// sends what a persona does to the emulator's user-side interface.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("sandbox-config").textContent);
  const paneState = {};
  const MAX_UPLOAD = 50 * 1024 * 1024;  // as sandbox/web.py accepts

  function pane(key) { return document.getElementById("pane-" + key); }

  async function post(url, body) {
    const init = { method: "POST", headers: { "X-Sandbox": "1" } };
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    const r = await fetch(url, init);
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new Error(data.error || "Permintaan gagal (HTTP " + r.status + ").");
    return data;
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

  // ------------------------------------------------------------------ acting
  async function act(key, fn) {
    try {
      await fn();
    } catch (e) {
      toast(key, e.message, false);
    }
  }

  function sendText(key, text) {
    return act(key, () => post("/api/send", { persona: key, text: text }));
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
        } catch (e) {
          alert(e.message);
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
        alert(e.message);
        return;
      }
      location.reload();
    });
    setInterval(refreshClock, 20000);
  }

  // ------------------------------------------------------------------ live updates
  function connect() {
    const conn = document.getElementById("conn");
    const es = new EventSource("/events");
    let first = true;
    es.onmessage = (m) => {
      const ev = JSON.parse(m.data);
      switch (ev.type) {
        case "hello":
          if (ev.epoch !== cfg.epoch) { location.reload(); return; }
          conn.classList.add("live");
          document.body.dataset.live = "1";
          if (!first) refreshAll();  // reconnected: something may have been missed
          first = false;
          break;
        case "chat": refreshPane(ev.persona); break;
        case "toast": toast(ev.persona, ev.text, ev.alert); break;
        case "typing": typing(ev.persona); break;
        case "clock": showClock(ev.clock); break;
        case "reset": location.reload(); break;
        case "resync": refreshAll(); break;
      }
    };
    es.onerror = () => {
      conn.classList.remove("live");
      document.body.dataset.live = "";
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const panes = document.getElementById("panes");
    panes.addEventListener("click", onPaneClick);
    panes.addEventListener("submit", onSubmit);
    panes.addEventListener("change", onFile);
    document.getElementById("open-as-cancel").addEventListener("click", () => {
      document.getElementById("open-as").hidden = true;
    });
    document.querySelectorAll(".pane .chat").forEach((c) => { c.scrollTop = c.scrollHeight; });
    setupClock();
    connect();
  });
})();
