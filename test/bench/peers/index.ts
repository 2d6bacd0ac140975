/** The peers a run compares against. A new peer implements Peer and is added to PEERS. */
import type { Peer } from "./peer.js";
import { rabbitMqPeer } from "./rabbitmq.js";

/** Every peer, in report order. */
export function peers(): Peer[] {
  return [rabbitMqPeer()];
}

export type { Peer, PeerResult, PeerRow, PeerRunOptions } from "./peer.js";
