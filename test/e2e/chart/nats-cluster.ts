/**
 * Runs the chart's rendered NATS StatefulSet and gateway Deployment for real, on this machine,
 * through the pod runner (kubelet.ts): every NATS pod runs its init container (`junction
 * nats-config` renders the accounts block from the Secret) and then nats-server with the rendered
 * nats.conf; the gateway pod runs `junction gateway` with the rendered environment and files.
 * Only what cannot exist outside a cluster is rewritten: the fixed ports become free local ports,
 * the absolute paths inside nats.conf point into the pod's root, and the pods' DNS names become
 * 127.0.0.1.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { find, type Rendered } from "./helm.js";
import { FakeKube, LocalPod, freePort, podTemplate } from "./kubelet.js";

/** Replaces exactly one occurrence of `from`; throws when it is missing, so drift is loud. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one "${from}" in nats.conf`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The last lines of a log file. */
function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n") : "(no log)";
}

/** One running server of the local cluster. */
export interface LocalNode {
  pod: LocalPod;
  clientPort: number;
  monitorPort: number;
  /** The nats container's resolved environment. */
  env: Record<string, string>;
  /** The accounts block the init container wrote. */
  accountsConf: string;
  logFile: string;
}

/** A cluster started from the rendered chart. */
export interface LocalCluster {
  nodes: LocalNode[];
  /** nats:// URLs of every node's client port. */
  urls(): string[];
  /** Last lines of every server's log, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

/** Starts every pod of the rendered StatefulSet as a local nats-server; the Secrets come from `kube`. */
export async function startRenderedCluster(rendered: Rendered, kube: FakeKube, statefulSet: string, dir: string): Promise<LocalCluster> {
  const sts = find(rendered.objects, "StatefulSet", statefulSet) as any;
  const replicas: number = sts.spec.replicas;
  const headless: string = sts.spec.serviceName;
  const claims = ((sts.spec.volumeClaimTemplates as any[] | undefined) ?? []).map((c) => c.metadata.name as string);
  const ports: { client: number; cluster: number; monitor: number }[] = [];
  for (let i = 0; i < replicas; i++) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });

  const nodes: LocalNode[] = [];
  for (let i = 0; i < replicas; i++) {
    const name = `${sts.metadata.name}-${i}`;
    const pod = new LocalPod({ name, root: join(dir, name), kube, objects: rendered.objects, template: sts.spec.template, claims });
    const p = ports[i]!;
    // The init container: `junction nats-config --secrets-dir /secrets ... --out /etc/nats-auth/accounts.conf`.
    const init = pod.container("accounts");
    await pod.runOk("accounts");
    const accountsConf = readFileSync(pod.hostPath(init, "/etc/nats-auth/accounts.conf"), "utf8");

    const nats = pod.container("nats");
    pod.mount(nats);
    const confFile = pod.hostPath(nats, "/etc/nats/nats.conf");
    let text = readFileSync(confFile, "utf8");
    text = replaceOnce(text, "\nport: 4222\n", `\nport: ${p.client}\n`);
    text = replaceOnce(text, "http_port: 8222", `http_port: ${p.monitor}`);
    if (replicas > 1) text = replaceOnce(text, "port: 6222", `port: ${p.cluster}`);
    for (const path of ["/data/jetstream", "/var/run/nats/nats.pid"]) {
      text = replaceOnce(text, ` ${path}\n`, ` "${pod.hostPath(nats, path)}"\n`);
    }
    for (const file of ["tls.crt", "tls.key", "ca.crt"]) {
      if (text.includes(`"/etc/nats-tls/${file}"`)) {
        text = replaceOnce(text, `"/etc/nats-tls/${file}"`, JSON.stringify(pod.hostPath(nats, `/etc/nats-tls/${file}`)));
      }
    }
    writeFileSync(confFile, text);
    // Pod DNS names (<pod>.<headless>.<ns>.svc.<domain>:6222) -> this machine's ports.
    const env = pod.env(nats);
    const routes: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) {
      const local = v.replace(new RegExp(`${sts.metadata.name}-(\\d+)\\.${headless}\\.[a-z0-9.-]+:6222`, "g"), (_m, n: string) => {
        const target = ports[Number(n)];
        if (target === undefined) throw new Error(`route to a pod that does not exist: ${v}`);
        return `127.0.0.1:${target.cluster}`;
      });
      if (local !== v) routes[k] = env[k] = local;
    }
    const { logFile } = pod.start("nats", routes);
    nodes.push({ pod, clientPort: p.client, monitorPort: p.monitor, env, accountsConf, logFile });
  }

  return {
    nodes,
    urls: () => nodes.map((n) => `nats://127.0.0.1:${n.clientPort}`),
    logs: () => nodes.map((n) => `--- ${n.pod.name}\n${tail(n.logFile)}`).join("\n"),
    close: async () => {
      await Promise.all(nodes.map((n) => n.pod.stop()));
    },
  };
}

/** The gateway pod, running `junction gateway` as its container would. */
export interface LocalGateway {
  pod: LocalPod;
  httpPort: number;
  /** The gateway container's resolved environment (paths under the pod's root). */
  env: Record<string, string>;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts one pod of the rendered gateway Deployment against the local cluster and waits until
 * /readyz answers 200.
 */
export async function startRenderedGateway(
  rendered: Rendered,
  kube: FakeKube,
  deployment: string,
  urls: readonly string[],
  dir: string,
): Promise<LocalGateway> {
  const template = podTemplate(rendered.objects, "Deployment", deployment);
  const pod = new LocalPod({ name: `${deployment}-0`, root: join(dir, `${deployment}-0`), kube, objects: rendered.objects, template });
  const httpPort = await freePort();
  const container = pod.container("gateway");
  const env = pod.env(container);
  const { logFile } = pod.start("gateway", { JUNCTION_URL: urls.join(","), JUNCTION_HTTP_PORT: String(httpPort) });
  const logs = () => `--- ${pod.name}\n${tail(logFile, 30)}`;
  const ready = await waitFor(async () => (await httpGet(`http://127.0.0.1:${httpPort}/readyz`)).status === 200, 45_000);
  if (!ready) {
    await pod.stop();
    throw new Error(`the gateway did not become ready:\n${logs()}`);
  }
  return { pod, httpPort, env, logs, stop: () => pod.stop() };
}

/** GET; resolves status and body (never throws: status 0 when unreachable). */
export async function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { headers });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** GET on a node's monitoring port. */
export async function monitor(node: LocalNode, path: string): Promise<{ status: number; body: string }> {
  return httpGet(`http://127.0.0.1:${node.monitorPort}${path}`);
}

/** Polls until `check` is true or the deadline passes; returns whether it became true. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * Speaks the NATS text protocol directly: CONNECT as user/password, send `lines`, then PING.
 * Resolves everything the server said after its INFO, once PONG or an authorization error
 * arrives. Enough to probe permissions without a client library.
 */
export async function natsExchange(port: number, user: string, pass: string, lines: readonly string[]): Promise<string> {
  return new Promise((resolveText, reject) => {
    const sock = connect(port, "127.0.0.1");
    let buf = "";
    let sent = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no PONG from nats-server on ${port}; got: ${buf}`));
    }, 10_000);
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => {
      buf += chunk;
      if (!sent && buf.includes("\r\n")) {
        sent = true;
        buf = buf.slice(buf.indexOf("\r\n") + 2); // drop INFO
        const connectLine = `CONNECT ${JSON.stringify({ user, pass, verbose: false, pedantic: false, protocol: 1 })}\r\n`;
        sock.write(connectLine + lines.map((l) => `${l}\r\n`).join("") + "PING\r\n");
      }
      if (sent && (buf.includes("PONG\r\n") || buf.includes("Authorization Violation"))) {
        clearTimeout(timer);
        sock.end();
        resolveText(buf);
      }
    });
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
