/**
 * HTTP produce (batched): `httpProduce(target, station, payload, durationMs, { batch, inFlight })`
 * keeps `inFlight` POST /v1/stations/<s>/messages requests of `batch` messages each in flight
 * (keep-alive connections, node:http) for `durationMs` and returns a Throughput like the other
 * scenarios; it fails on any refused message. The `http` suite (suites/http.ts) runs it beside
 * the SDK producer in `npm run bench` (`npm run bench -- --quick --only http` alone).
 * Not a test: nothing here asserts a timing.
 */
import { Agent, request } from "node:http";
import { runWindow, type Throughput } from "./load.js";

/** Where and as whom to produce over HTTP. */
export interface HttpTarget {
  /** The gateway's HTTP base URL (`http://127.0.0.1:8080`). */
  baseUrl: string;
  user: string;
  password: string;
}

/** Options of {@link httpProduce}. */
export interface HttpProduceOptions {
  /** Messages per request. */
  batch: number;
  /** Requests in flight at once (and keep-alive connections). */
  inFlight: number;
}

/**
 * Produces `payload` (JSON bytes) over HTTP in batches for `durationMs`. Every request body is
 * the same JSON text, built once (the gateway gives each message an id), so the client's cost is
 * the HTTP exchange alone.
 */
export async function httpProduce(
  t: HttpTarget,
  station: string,
  payload: Uint8Array,
  durationMs: number,
  o: HttpProduceOptions,
): Promise<Throughput> {
  const value = new TextDecoder().decode(payload);
  const body = Buffer.from(`{"messages":[${Array.from({ length: o.batch }, () => `{"payload":${value}}`).join(",")}]}`);
  const url = new URL(`/v1/stations/${station}/messages`, t.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: o.inFlight });
  const auth = `Basic ${Buffer.from(`${t.user}:${t.password}`).toString("base64")}`;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: "POST",
          agent,
          headers: { authorization: auth, "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            const { results } = JSON.parse(text) as { results: { ok: boolean; error?: { code: string } }[] };
            const bad = results.find((r) => !r.ok);
            if (bad || results.length !== o.batch) return reject(new Error(`a message was refused: ${JSON.stringify(bad)}`));
            resolve();
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  try {
    return await runWindow({ window: o.batch * o.inFlight, durationMs, unit: o.batch, issue: post });
  } finally {
    agent.destroy();
  }
}
