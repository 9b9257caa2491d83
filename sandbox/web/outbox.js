// The sandbox page's outbox: every text a persona sends goes through it, in order, each with an
// id of its own (the server's random_id, as Telegram clients send). When the sandbox cannot be
// reached the text is kept (in sessionStorage: also across a reload of the tab, which follows a
// restart of the sandbox), marked as waiting, tried again every few seconds and as soon as the
// sandbox is back; a send retried after a lost answer is recognised by the server and not
// delivered twice.
//   const box = SandboxOutbox.create({send: (item) => promise, onChange: (items) => ..., onRefused: (item, err) => ...});
//   box.add(persona, text); box.flush();
// ``send`` rejects with an error whose ``retry`` is true when the text may be sent again later.
(function () {
  "use strict";
  const KEY = "splp-sandbox:outbox";
  const RETRY_MS = 2000;

  function load() {
    try {
      const q = JSON.parse(sessionStorage.getItem(KEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (e) {
      return [];
    }
  }

  function randomId() {  // 1 .. 2^53: a safe integer in JavaScript, an int64 for the server
    const a = new Uint32Array(2);
    crypto.getRandomValues(a);
    return (a[0] & 0x1fffff) * 4294967296 + a[1] + 1;
  }

  function create(opts) {
    const items = load();
    let flushing = false;
    let timer = null;

    function save() {
      try { sessionStorage.setItem(KEY, JSON.stringify(items)); } catch (e) { /* storage off: memory only */ }
      opts.onChange(items);
    }

    async function flush() {
      if (flushing) return;
      flushing = true;
      clearTimeout(timer);
      try {
        while (items.length) {
          const item = items[0];
          try {
            await opts.send(item);
          } catch (e) {
            if (e.retry) {  // kept, and tried again
              item.waiting = true;
              save();
              timer = setTimeout(flush, RETRY_MS);
              return;
            }
            opts.onRefused(item, e);  // refused (empty, too long): not sent again
          }
          items.shift();
          save();
        }
      } finally {
        flushing = false;
      }
    }

    function add(persona, text) {
      items.push({ id: randomId(), persona: persona, text: text, waiting: false });
      save();
      flush();
    }

    return { add: add, flush: flush, items: items };
  }

  window.SandboxOutbox = { create: create };
})();
