import { JunctionError } from "./errors.js";
import type { Scope } from "./subjects.js";

/** The longest ordering key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 256;
/** The most partitions a station may have (each is one JetStream consumer per group). */
export const MAX_PARTITIONS = 256;
/**
 * Messages a partition's consumer has out at once (its `max_ack_pending`): the member holding the
 * partition hands them out by key, one at a time per key, so a key being retried holds back only
 * its own later messages.
 */
export const PARTITION_WINDOW = 32;
/**
 * The `term` reason a member of a keyed station gives a message whose retries ran out (it
 * retries them itself): `jn:poison:<deliveries>`; the dead-letter listener records it as poison.
 */
export const POISON_TERM_PREFIX = "jn:poison:";

const enc = new TextEncoder();
// Control characters cannot travel in a NATS header value, and a key is shown in the CLI and TUI.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with an ordering key, or undefined when it is fine. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== "string") return `the key must be a string (got ${typeof key})`;
  if (key.length === 0) return "the key must not be empty";
  if (CONTROL.test(key)) return "the key must not hold control characters";
  const bytes = enc.encode(key).length;
  if (bytes > MAX_KEY_BYTES) return `the key is ${bytes} bytes; at most ${MAX_KEY_BYTES} are allowed`;
  return undefined;
}

/** Throws INVALID_ARGUMENT (`details.option` = "key") unless the key is a valid ordering key. */
export function assertKey(key: unknown): asserts key is string {
  const p = keyProblem(key);
  if (p) throw new JunctionError("INVALID_ARGUMENT", p, { details: { option: "key" } });
}

/**
 * 32-bit FNV-1a over the key's UTF-8 bytes. Part of the wire contract: every gateway (and any
 * client that wants to know where a key goes) must compute the same partition.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of enc.encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The partition of a key on a station with `partitions` partitions: FNV-1a(key) mod partitions. */
export function partitionOf(key: string, partitions: number): number {
  return partitions <= 1 ? 0 : fnv1a32(key) % partitions;
}

let spread = 0;

/**
 * The partition a message is stored in: its key's partition; a message without a key goes to
 * the partition of its id (so a retry lands where the first attempt did), or, without an id,
 * to the next partition in turn. Messages without a key have no order among themselves.
 */
export function messagePartition(key: string | undefined, id: string | undefined, partitions: number): number {
  if (partitions <= 1) return 0;
  if (key !== undefined && key !== "") return partitionOf(key, partitions);
  if (id) return fnv1a32(id) % partitions;
  spread = (spread + 1) % partitions;
  return spread;
}

/** The subject a produced message is stored on: `…msg`, or its partition's subject on a partitioned station. */
export function messageSubject(scope: Scope, station: string, partitions: number, key: string | undefined, id: string | undefined): string {
  return partitions > 1 ? scope.stationPartition(station, messagePartition(key, id, partitions)) : scope.stationMsg(station);
}
