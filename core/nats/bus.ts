import type { Msg, NatsConnection } from "@nats-io/nats-core";
import type { Bus, BusRequest, Requester } from "./ports.js";

/** nats-server: service imports that share request info add this header (JSON ClientInfo). */
const REQUEST_INFO = "Nats-Request-Info";

function requesterOf(m: Msg): Requester | undefined {
  const raw = m.headers?.get(REQUEST_INFO);
  if (!raw) return undefined;
  try {
    const ci = JSON.parse(raw) as { acc?: unknown; user?: unknown; name?: unknown; id?: unknown; name_tag?: unknown; start?: unknown };
    if (typeof ci.acc !== "string") return undefined;
    // nats-server: an auth-callout user is known by the name in its user JWT (Junction sets it to the login).
    const user = typeof ci.user === "string" ? ci.user : "";
    return {
      account: ci.acc,
      user,
      name: typeof ci.name === "string" ? ci.name : undefined,
      clientId: typeof ci.id === "number" ? ci.id : undefined,
      connectedAtMs: typeof ci.start === "string" ? Date.parse(ci.start) : undefined,
    };
  } catch {
    return undefined;
  }
}

function request(m: Msg): BusRequest {
  return {
    subject: m.subject,
    reply: m.reply || undefined,
    data: m.data,
    header: (name) => {
      const h = m.headers;
      if (!h || !h.has(name)) return undefined;
      return h.get(name);
    },
    headerNames: () => (m.headers ? m.headers.keys() : []),
    requester: () => requesterOf(m),
    respond: (data) => (m.reply ? m.respond(data) : false),
  };
}

/** The bus over a NATS connection. */
export function natsBus(nc: NatsConnection): Bus {
  let up = !nc.isClosed();
  const listeners = new Set<(s: "up" | "down") => void>();
  void (async () => {
    for await (const s of nc.status()) {
      const next = s.type === "disconnect" || s.type === "staleConnection" ? false : s.type === "reconnect" ? true : up;
      if (next === up) continue;
      up = next;
      for (const l of listeners) l(up ? "up" : "down");
    }
  })().catch(() => {});
  void nc.closed().then(() => {
    up = false;
    for (const l of listeners) l("down");
  });
  return {
    serve(subject, handler, o = {}) {
      const sub = nc.subscribe(subject, {
        ...(o.queue ? { queue: o.queue } : {}),
        callback: (err, msg) => {
          if (!err) handler(request(msg));
        },
      });
      return { stop: () => sub.unsubscribe() };
    },
    publish(subject, data) {
      if (!nc.isClosed()) nc.publish(subject, data);
    },
    async flush() {
      if (!nc.isClosed()) await nc.flush();
    },
    connected: () => up && !nc.isClosed(),
    onStatus(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  };
}
