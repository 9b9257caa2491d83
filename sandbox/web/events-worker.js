// SharedWorker: the one event stream (/events) of every tab of this sandbox in this browser.
// A browser opens at most six HTTP/1.1 connections to one address; a stream per tab would leave
// the seventh tab without any. The worker relays each event to every tab attached to it, tells a
// tab that attaches later where the stream stands (the last "hello"), and says "down" while the
// stream is broken (the browser reconnects it by itself; a closed stream is reopened here).
"use strict";

const ports = new Set();
let source = null;
let hello = null;  // the last "hello" while the stream is up

function send(port, event) {
  try {
    port.postMessage(event);
  } catch (e) {
    ports.delete(port);
  }
}

function broadcast(event) {
  ports.forEach((p) => send(p, event));
}

function open() {
  source = new EventSource("/events");
  source.onmessage = (m) => {
    let event;
    try { event = JSON.parse(m.data); } catch (e) { return; }
    if (event.type === "hello") hello = event;
    broadcast(event);
  };
  source.onerror = () => {
    if (hello !== null) {
      hello = null;
      broadcast({ type: "down" });
    }
    if (source.readyState === EventSource.CLOSED) {  // refused for good: try again later
      source = null;
      setTimeout(() => { if (source === null && ports.size) open(); }, 2000);
    }
  };
}

self.onconnect = (e) => {
  const port = e.ports[0];
  port.onmessage = (m) => {
    if (m.data && m.data.bye) {
      ports.delete(port);
    } else if (m.data && m.data.attach) {
      ports.add(port);
      send(port, hello !== null ? Object.assign({}, hello, { replay: true }) : { type: "down" });
      if (source === null) open();
    }
  };
  port.start();
};
