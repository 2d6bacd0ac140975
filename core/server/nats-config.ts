/**
 * Renders nats-server configuration for embedded (dev) mode, the test harness and the cluster
 * test. Pure: no I/O, unit-tested.
 */

/** A NATS user. */
export interface NatsUser {
  user: string;
  password: string;
}

/** The two users of a Junction deployment. */
export interface JunctionUsers {
  /** Full rights: the gateway creates streams, KV buckets and consumers. */
  gateway: NatsUser;
  /** Clients: the admin API, produce, pull and ack on station consumers, and nothing else. */
  client: NatsUser;
}

/** Junction's internal streams: clients may neither pull from them nor ack on them. */
export const INTERNAL_STREAMS = ["JN_DLS", "JN_ADV", "KV_jn_stations", "KV_jn_schemas", "KV_jn_functions", "KV_jn_groups"] as const;

/**
 * What the client user may publish to and subscribe on. Clients cannot write station subjects
 * (`jn.st.>`), KV or any JetStream API except pulling from, reading info of and acking on
 * consumers of station streams. NATS wildcards match whole tokens only (`JN_ST_*` would be a
 * literal), so the station rule is "any stream" minus the internal ones.
 */
export const CLIENT_PERMISSIONS = {
  publish: {
    allow: ["jn.api.>", "jn.produce.>", "$JS.API.CONSUMER.MSG.NEXT.*.*", "$JS.API.CONSUMER.INFO.*.*", "$JS.ACK.>", "_INBOX.>"],
    deny: [
      "jn.st.>",
      "jn.dls.>",
      "$KV.>",
      "$JS.API.STREAM.>",
      ...INTERNAL_STREAMS.flatMap((s) => [`$JS.API.CONSUMER.MSG.NEXT.${s}.*`, `$JS.API.CONSUMER.INFO.${s}.*`, `$JS.ACK.${s}.>`]),
    ],
  },
  subscribe: { allow: ["_INBOX.>", "jn.events.>"] },
} as const;

/** Options of {@link renderNatsConfig}. */
export interface NatsConfigOptions {
  host: string;
  /** -1 = a random free port (read back from the ports file). */
  port: number;
  storeDir: string;
  portsFileDir?: string;
  /** "always" = fsync before ack (the default); "default" = the lazy NATS default. */
  sync: "always" | "default";
  users?: JunctionUsers | undefined;
  /** Largest message NATS accepts, in bytes; batch frames must fit. */
  maxPayload: number;
  serverName?: string;
  cluster?: { name: string; host: string; port: number; routes: string[] } | undefined;
  /** HTTP monitoring port; 0 = off. */
  httpPort?: number;
}

const q = (s: string) => JSON.stringify(s);

/** Renders a nats-server config file. */
export function renderNatsConfig(o: NatsConfigOptions): string {
  const lines: string[] = [];
  lines.push(`host: ${q(o.host)}`, `port: ${o.port}`, `max_payload: ${o.maxPayload}`);
  if (o.serverName) lines.push(`server_name: ${q(o.serverName)}`);
  if (o.portsFileDir) lines.push(`ports_file_dir: ${q(o.portsFileDir)}`);
  if (o.httpPort) lines.push(`http_port: ${o.httpPort}`);
  lines.push("jetstream {", `  store_dir: ${q(o.storeDir)}`);
  if (o.sync === "always") lines.push("  sync_interval: always");
  lines.push("}");
  if (o.cluster) {
    lines.push(
      "cluster {",
      `  name: ${q(o.cluster.name)}`,
      `  host: ${q(o.cluster.host)}`,
      `  port: ${o.cluster.port}`,
      `  routes: [${o.cluster.routes.map(q).join(", ")}]`,
      "}",
    );
  }
  if (o.users) {
    const p = CLIENT_PERMISSIONS;
    lines.push(
      "authorization {",
      "  users: [",
      `    { user: ${q(o.users.gateway.user)}, password: ${q(o.users.gateway.password)} }`,
      `    { user: ${q(o.users.client.user)}, password: ${q(o.users.client.password)}, permissions: {`,
      `        publish: { allow: [${p.publish.allow.map(q).join(", ")}], deny: [${p.publish.deny.map(q).join(", ")}] }`,
      `        subscribe: { allow: [${p.subscribe.allow.map(q).join(", ")}] }`,
      "    } }",
      "  ]",
      "}",
    );
  }
  return lines.join("\n") + "\n";
}
