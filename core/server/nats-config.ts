/**
 * Renders nats-server configuration for embedded (dev) mode, the test harness, the cluster test and
 * `junction nats-config` (the block an operator puts in an existing NATS). Pure: no I/O,
 * unit-tested.
 *
 * The security model (docs/security.md): three NATS accounts. JUNCTION holds JetStream (stations,
 * KV, DLS, advisories) and the gateway; CLIENTS holds every application user, placed there by the
 * gateway's auth callout with per-user permissions; SYS is the system account. CLIENTS reaches
 * JUNCTION only through service imports — the admin API, produce, and the pull, info and ack
 * subjects of consumers — so every reply to a client crosses back into CLIENTS and can land only
 * where that client may subscribe. Nothing of JUNCTION (streams, KV, advisories) is addressable
 * from CLIENTS.
 */
import { renderMemphisAccounts } from "../memphis/index.js";
import { Accounts, CLIENT_JS_API_PREFIX, MEMBERS_PREFIX } from "../protocol/index.js";

/** A static NATS user (the gateway's, the system account's). */
export interface NatsUser {
  user: string;
  /** A bcrypt hash (`$2a$…`) or, in tests only, the password itself. */
  password: string;
}

/** The accounts block of a Junction deployment. */
export interface JunctionAccounts {
  /** The gateway's user in the internal account (bypasses the callout). */
  gateway: NatsUser;
  /** A system-account user (bypasses the callout); the gateway uses it to close connections. */
  system: NatsUser;
  /** The public key (`A…`) of the account seed the gateway signs callout answers with. */
  issuerPublicKey: string;
  /**
   * Memphis compatibility: the users that connect with the memphis.js SDK, each in a
   * `MEMPHIS_<user>` account of its own, and what the internal account exports to them (see
   * docs/memphis.md). The gateway must list the same users.
   */
  memphis?: readonly string[] | undefined;
}

/** What the internal account offers the client account. */
export const CLIENT_IMPORTS = [
  { kind: "service", subject: "jn.api.>", share: true },
  { kind: "service", subject: "jn.produce.>", share: true },
  { kind: "service", subject: "$JS.API.CONSUMER.INFO.*.*", to: `${CLIENT_JS_API_PREFIX}.CONSUMER.INFO.*.*` },
  { kind: "service", subject: "$JS.API.CONSUMER.MSG.NEXT.*.*", to: `${CLIENT_JS_API_PREFIX}.CONSUMER.MSG.NEXT.*.*`, stream: true },
  { kind: "service", subject: "$JS.API.CONSUMER.UNPIN.*.*", to: `${CLIENT_JS_API_PREFIX}.CONSUMER.UNPIN.*.*` },
  { kind: "service", subject: "$JS.ACK.>" },
  { kind: "stream", subject: "jn.events.>" },
  { kind: "stream", subject: "jn.t.*.events.>" },
] as const;

/**
 * What the client account offers the internal one: the presence of partitioned groups' members
 * (`jn.members.>`), so the gateway can show who reads which partition.
 */
export const GATEWAY_IMPORTS = [{ kind: "stream", subject: `${MEMBERS_PREFIX}.>` }] as const;

/** Options of {@link renderNatsConfig}. */
export interface NatsConfigOptions {
  host: string;
  /** -1 = a random free port (read back from the ports file). */
  port: number;
  storeDir: string;
  portsFileDir?: string | undefined;
  /** "always" = fsync before ack (the default); "default" = the lazy NATS default. */
  sync: "always" | "default";
  /** The accounts and users; without them the server is open (only for benchmarks of raw NATS). */
  accounts?: JunctionAccounts | undefined;
  /** Largest message NATS accepts, in bytes; batch frames must fit. */
  maxPayload: number;
  /**
   * JetStream's file storage limit, in bytes (`max_file_store`). Writes past it are refused at once
   * ("insufficient storage resources", STORE_FULL) instead of filling the disk, which makes
   * nats-server stop JetStream. @default nats-server's own (75% of the disk's free space at start)
   */
  maxFileStore?: number | undefined;
  /** Messages a stream queues for storing at most (`max_buffered_msgs`). @default nats-server's own (100,000) */
  maxBufferedMsgs?: number | undefined;
  serverName?: string | undefined;
  cluster?: { name: string; host: string; port: number; routes: string[]; user?: string; password?: string } | undefined;
  /** HTTP monitoring port; 0 = off. */
  httpPort?: number | undefined;
  /** TLS for client connections. */
  tls?: { certFile: string; keyFile: string; caFile?: string | undefined; verify?: boolean | undefined } | undefined;
}

const q = (s: string) => JSON.stringify(s);

/** The `accounts`, `system_account` and `authorization` blocks. */
export function renderAccounts(a: JunctionAccounts): string {
  const { Internal: internal, Clients: clients, System: sys } = Accounts;
  const exports = CLIENT_IMPORTS.map((i) =>
    i.kind === "stream"
      ? `      { stream: ${q(i.subject)} }`
      : `      { service: ${q(i.subject)}${"stream" in i && i.stream ? ', response_type: stream, response_threshold: "2m"' : ""} }`,
  );
  const imports = CLIENT_IMPORTS.map((i) =>
    i.kind === "stream"
      ? `      { stream: { account: ${internal}, subject: ${q(i.subject)} } }`
      : `      { service: { account: ${internal}, subject: ${q(i.subject)} }${"to" in i ? `, to: ${q(i.to)}` : ""}${"share" in i && i.share ? ", share: true" : ""} }`,
  );
  const memphis = a.memphis && a.memphis.length > 0 ? renderMemphisAccounts(internal, a.memphis) : undefined;
  if (memphis) exports.push(...memphis.exports);
  return [
    "accounts {",
    `  ${internal}: {`,
    "    jetstream: enabled",
    `    users: [ { user: ${q(a.gateway.user)}, password: ${q(a.gateway.password)} } ]`,
    "    exports: [",
    ...exports,
    "    ]",
    "    imports: [",
    ...GATEWAY_IMPORTS.map((i) => `      { stream: { account: ${clients}, subject: ${q(i.subject)} } }`),
    "    ]",
    "  }",
    `  ${clients}: {`,
    "    imports: [",
    ...imports,
    "    ]",
    "    exports: [",
    ...GATEWAY_IMPORTS.map((i) => `      { stream: ${q(i.subject)} }`),
    "    ]",
    "  }",
    `  ${sys}: { users: [ { user: ${q(a.system.user)}, password: ${q(a.system.password)} } ] }`,
    ...(memphis ? memphis.accounts : []),
    "}",
    `system_account: ${sys}`,
    "authorization {",
    "  auth_callout {",
    `    issuer: ${q(a.issuerPublicKey)}`,
    `    account: ${internal}`,
    `    auth_users: [ ${q(a.gateway.user)}, ${q(a.system.user)} ]`,
    "  }",
    "}",
  ].join("\n");
}

/** Renders a nats-server config file. */
export function renderNatsConfig(o: NatsConfigOptions): string {
  const lines: string[] = [];
  lines.push(`host: ${q(o.host)}`, `port: ${o.port}`, `max_payload: ${o.maxPayload}`);
  if (o.serverName) lines.push(`server_name: ${q(o.serverName)}`);
  if (o.portsFileDir) lines.push(`ports_file_dir: ${q(o.portsFileDir)}`);
  if (o.httpPort) lines.push(`http_port: ${o.httpPort}`);
  lines.push("jetstream {", `  store_dir: ${q(o.storeDir)}`);
  if (o.sync === "always") lines.push("  sync_interval: always");
  if (o.maxFileStore !== undefined) lines.push(`  max_file_store: ${o.maxFileStore}`);
  if (o.maxBufferedMsgs !== undefined) lines.push(`  max_buffered_msgs: ${o.maxBufferedMsgs}`);
  lines.push("}");
  if (o.tls) {
    lines.push("tls {", `  cert_file: ${q(o.tls.certFile)}`, `  key_file: ${q(o.tls.keyFile)}`);
    if (o.tls.caFile) lines.push(`  ca_file: ${q(o.tls.caFile)}`);
    if (o.tls.verify) lines.push("  verify: true");
    lines.push("}");
  }
  if (o.cluster) {
    lines.push(
      "cluster {",
      `  name: ${q(o.cluster.name)}`,
      `  host: ${q(o.cluster.host)}`,
      `  port: ${o.cluster.port}`,
      ...(o.cluster.user
        ? ["  authorization {", `    user: ${q(o.cluster.user)}`, `    password: ${q(o.cluster.password ?? "")}`, "  }"]
        : []),
      `  routes: [${o.cluster.routes.map(q).join(", ")}]`,
      "}",
    );
  }
  if (o.accounts) lines.push(renderAccounts(o.accounts));
  return lines.join("\n") + "\n";
}
