// Live updates for the sandbox page: SandboxLive.connect(onEvent) calls onEvent with each event
// the server sends ({type: "hello", epoch}, "chat", "toast", "typing", "clock", "reset",
// "resync") and {type: "down"} while the sandbox cannot be reached.
// All tabs of a browser share one event stream through a SharedWorker (events-worker.js): a
// stream per tab would take one of the six connections a browser opens to one address, and the
// seventh tab would not load. Without SharedWorker each tab polls /api/events instead, which
// holds no connection open.
(function () {
  "use strict";
  const POLL_MS = 1000;

  function viaWorker(onEvent, fallback) {
    let worker;
    try {
      worker = new SharedWorker("/static/events-worker.js", { name: "splp-sandbox-events" });
    } catch (e) {
      return false;
    }
    const port = worker.port;
    let working = false;
    worker.onerror = () => {  // the script did not load or run: poll instead
      if (working) return;
      working = true;
      port.close();
      fallback();
    };
    port.onmessage = (m) => {
      working = true;
      onEvent(m.data);
    };
    port.start();
    port.postMessage({ attach: true });
    window.addEventListener("pagehide", () => port.postMessage({ bye: true }));
    window.addEventListener("pageshow", (e) => { if (e.persisted) port.postMessage({ attach: true }); });
    return true;
  }

  function viaPolling(onEvent) {
    let after = null;
    let epoch = null;
    async function tick() {
      let next = POLL_MS;
      try {
        const r = await fetch("/api/events" + (after === null ? "" : "?after=" + after), { cache: "no-store" });
        if (!r.ok) throw new Error("HTTP " + r.status);
        const d = await r.json();
        if (epoch !== d.epoch) {  // first answer, back after a break, or another sandbox
          epoch = d.epoch;
          onEvent({ type: "hello", epoch: d.epoch });
        }
        after = d.last;
        d.events.forEach(onEvent);
      } catch (e) {
        if (epoch !== null) {
          epoch = null;
          onEvent({ type: "down" });
        }
        next = 2 * POLL_MS;
      }
      setTimeout(tick, next);
    }
    tick();
  }

  window.SandboxLive = {
    connect(onEvent) {
      const poll = () => viaPolling(onEvent);
      if (typeof SharedWorker === "undefined" || !viaWorker(onEvent, poll)) poll();
    },
  };
})();
