/**
 * A peer broker measured beside Junction in the same run (RabbitMQ today; others plug in by
 * implementing {@link Peer} and adding themselves to the list in index.ts). A peer starts what
 * it needs (its own server, temporary folders, its own ports), measures, and stops it again;
 * when it cannot run here it says why, and the report prints that line instead of numbers.
 */
import type { Throughput } from "../load.js";

/** What a peer is asked to measure: the same payload and durations as Junction's rows. */
export interface PeerRunOptions {
  /** The 1 KiB payload every produce scenario sends. */
  payload: Uint8Array;
  /** How long to publish to each variant, ms (then everything published is consumed). */
  publishMs: number;
  /** Unconfirmed messages in flight at most (publisher confirms or the peer's equivalent). */
  outstanding: number;
  log(line: string): void;
}

/** One variant of a peer (a queue type, a delivery mode): produce then consume. */
export interface PeerRow {
  /** e.g. "quorum queue". */
  variant: string;
  publish: Throughput;
  consume: Throughput;
  /** CPU µs per message of the peer's server processes while publishing, when known. */
  serverCpuPerMessage?: number | undefined;
}

/** What one peer measured. */
export interface PeerResult {
  /** e.g. "RabbitMQ". */
  peer: string;
  /** Server version. */
  version: string;
  /** The client library and its version. */
  client: string;
  /** How it was measured, one paragraph each (durability settings first). */
  method: string[];
  rows: PeerRow[];
}

/** A broker to compare against. */
export interface Peer {
  /** Shown in the report, e.g. "RabbitMQ". */
  readonly name: string;
  /** Why it cannot run on this machine, or undefined when it can. Never throws. */
  unavailable(): Promise<string | undefined>;
  /** Starts the peer, measures every variant, stops it; rejects on failure (the run goes on). */
  run(o: PeerRunOptions): Promise<PeerResult>;
}
