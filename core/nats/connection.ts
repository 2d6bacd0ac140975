import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { errorFromNats, JunctionError, natsConnectOptions, type ConnectSettings, type Scope } from "../protocol/index.js";
import { NatsAdvisoryFeed } from "./advisories.js";
import { NatsStoreWriter } from "./batch.js";
import { natsBus } from "./bus.js";
import { issuerPublicKey, serveAuthCallout } from "./callout.js";
import { connectSystem, type SystemAdmin } from "./system.js";
import { assertServerVersion } from "./features.js";
import { openBucket, openMetadataBuckets } from "./kv.js";
import type { Backend, JsonBucket } from "./ports.js";
import { NatsStreamReader } from "./reader.js";
import { NatsStreamAdmin } from "./streams.js";

/** How to reach NATS, and how long the store may take to acknowledge a write. */
export interface BackendOptions extends ConnectSettings {
  /** How long to wait for a JetStream store ack. @default 10000 */
  storeTimeoutMs?: number | undefined;
  /** The account seed that signs auth-callout answers (the server config names its public key). */
  authIssuerSeed?: string | undefined;
  /** A system-account user (to find and close a user's connections when its rights change). */
  system?: ConnectSettings | undefined;
}

/**
 * Connects to NATS and returns the store behind the ports. Checks that the server is new enough
 * (UNSUPPORTED_SERVER naming the version and the missing features) and that JetStream answers.
 * Errors become JunctionErrors: AUTH_FAILED, NATS_UNAVAILABLE (retriable)…
 */
export async function connectBackend(o: BackendOptions): Promise<Backend> {
  let nc;
  try {
    nc = await connect(natsConnectOptions(o, o.name ?? "junction-gateway"));
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
  try {
    const version = nc.info?.version ?? "unknown";
    assertServerVersion(version, `the NATS server at ${String(o.servers)}`);
    let jsm;
    try {
      jsm = await jetstreamManager(nc);
    } catch (err) {
      // A cluster still electing its JetStream leader answers "temporarily unavailable" (10008) or
      // nobody answers yet: a retry can succeed.
      const text = (err as Error).message;
      if (/temporarily unavailable|no responders|503|timeout/i.test(text)) {
        await nc.close().catch(() => {});
        throw new JunctionError("NATS_UNAVAILABLE", `JetStream on ${String(o.servers)} is not ready yet: ${text}`, { cause: err });
      }
      throw new JunctionError("UNSUPPORTED_SERVER", `JetStream is not enabled for this user on ${String(o.servers)}: ${text}`, {
        cause: err,
      });
    }
    const writer = new NatsStoreWriter(nc, o.storeTimeoutMs ?? 10_000);
    const bus = natsBus(nc);
    if (o.authIssuerSeed !== undefined) issuerPublicKey(o.authIssuerSeed); // fails now on a bad seed
    const system: SystemAdmin | undefined = o.system ? await connectSystem(o.system) : undefined;
    let closing: Promise<void> | undefined;
    return {
      bus,
      writer,
      admin: new NatsStreamAdmin(jsm),
      reader: new NatsStreamReader(jsm),
      advisories: new NatsAdvisoryFeed(nc, jsm),
      server: { version, maxPayload: nc.info?.max_payload ?? 1024 * 1024 },
      metadata: (scope: Scope, replicas: number) => openMetadataBuckets(nc, scope, replicas),
      bucket: <T>(name: string, replicas: number): Promise<JsonBucket<T>> => openBucket<T>(nc, name, { history: 1, replicas }),
      serveAuth(decide, onError) {
        const seed = o.authIssuerSeed;
        if (seed === undefined) throw new JunctionError("INVALID_ARGUMENT", "auth callout needs the issuer seed (authIssuerSeed)");
        return serveAuthCallout(nc, seed, decide, onError);
      },
      system,
      closed: () => nc.isClosed(),
      close() {
        closing ??= (async () => {
          writer.close();
          await system?.close();
          if (!nc.isClosed()) await nc.drain().catch(() => {});
        })();
        return closing;
      },
    };
  } catch (err) {
    await nc.close().catch(() => {});
    throw err instanceof JunctionError ? err : errorFromNats(err, "connecting to NATS");
  }
}
