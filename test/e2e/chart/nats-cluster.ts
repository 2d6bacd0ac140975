/**
 * Runs the chart's rendered nats-server configuration for real, on this machine: one process
 * per StatefulSet pod, with the pod's environment resolved the way Kubernetes would (secretKeyRef
 * from the rendered Secret, fieldRef metadata.name, $(VAR) expansion). Only what cannot exist
 * outside a cluster is rewritten: the fixed ports become free local ports, the volume paths
 * become temp directories, and the pods' DNS names become 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, find, type K8sObject, type Rendered } from "./helm.js";

/** nats-server (>= 2.12) from scripts/install-nats-server; throws when none can be had. */
export function natsServerBinary(): string {
  const fromEnv = process.env["JUNCTION_NATS_SERVER"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const run = spawnSync("bash", [join(ROOT, "scripts/install-nats-server")], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (run.status !== 0) {
    throw new Error(`nats-server >= 2.12 is required: scripts/install-nats-server failed:\n${run.stderr}${run.stdout}`);
  }
  const local = join(ROOT, ".tools/bin/nats-server");
  if (existsSync(local)) return local;
  const which = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  const onPath = which.stdout.trim();
  if (onPath === "") throw new Error(`install-nats-server succeeded but no nats-server was found:\n${run.stdout}`);
  return onPath;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

/** Container env of `pod`, resolved as the kubelet does. */
export function resolvePodEnv(env: readonly EnvVar[], secrets: readonly K8sObject[], pod: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of env) {
    if (v.valueFrom?.secretKeyRef !== undefined) {
      const ref = v.valueFrom.secretKeyRef;
      const secret = secrets.find((s) => s.metadata.name === ref.name);
      const data = secret?.["data"] as Record<string, string> | undefined;
      const b64 = data?.[ref.key];
      if (b64 === undefined) throw new Error(`env ${v.name}: secret ${ref.name} key ${ref.key} not rendered`);
      out[v.name] = Buffer.from(b64, "base64").toString("utf8");
    } else if (v.valueFrom?.fieldRef !== undefined) {
      if (v.valueFrom.fieldRef.fieldPath !== "metadata.name") throw new Error(`env ${v.name}: unsupported fieldRef`);
      out[v.name] = pod;
    } else {
      // $(NAME) refers to an earlier variable; $$ escapes.
      out[v.name] = (v.value ?? "").replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
        name === undefined ? "$" : (out[name] ?? m),
      );
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Replaces exactly one occurrence of `from`; throws when it is missing, so drift is loud. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`expected exactly one "${from}" in nats.conf`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** One running server of the local cluster. */
export interface LocalNode {
  pod: string;
  clientPort: number;
  monitorPort: number;
  env: Record<string, string>;
  logFile: string;
}

/** A cluster started from the rendered chart. */
export interface LocalCluster {
  nodes: LocalNode[];
  /** Last lines of every server's log, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

/** Starts every pod of the rendered StatefulSet as a local nats-server. */
export async function startRenderedCluster(rendered: Rendered, statefulSet: string, configMap: string): Promise<LocalCluster> {
  const bin = natsServerBinary();
  const sts = find(rendered.objects, "StatefulSet", statefulSet) as any;
  const conf = (find(rendered.objects, "ConfigMap", configMap) as any).data["nats.conf"] as string;
  const container = sts.spec.template.spec.containers[0];
  const secrets = rendered.objects.filter((o) => o.kind === "Secret");
  const replicas: number = sts.spec.replicas;
  const headless: string = sts.spec.serviceName;
  const dir = mkdtempSync(join(tmpdir(), "jn-chart-nats-"));
  const ports: { client: number; cluster: number; monitor: number }[] = [];
  for (let i = 0; i < replicas; i++) ports.push({ client: await freePort(), cluster: await freePort(), monitor: await freePort() });

  const nodes: LocalNode[] = [];
  const procs: ChildProcess[] = [];
  for (let i = 0; i < replicas; i++) {
    const pod = `${sts.metadata.name}-${i}`;
    const p = ports[i]!;
    const nodeDir = join(dir, pod);
    mkdirSync(join(nodeDir, "data"), { recursive: true });
    let text = replaceOnce(conf, "\nport: 4222\n", `\nport: ${p.client}\n`);
    text = replaceOnce(text, "http_port: 8222", `http_port: ${p.monitor}`);
    if (replicas > 1) text = replaceOnce(text, "port: 6222", `port: ${p.cluster}`);
    text = replaceOnce(text, "store_dir: /data/jetstream", `store_dir: "${join(nodeDir, "data/jetstream")}"`);
    text = replaceOnce(text, "pid_file: /var/run/nats/nats.pid", `pid_file: "${join(nodeDir, "nats.pid")}"`);
    const confFile = join(nodeDir, "nats.conf");
    writeFileSync(confFile, text);
    const env = resolvePodEnv(container.env, secrets, pod);
    // Pod DNS names (<pod>.<headless>.<ns>.svc.<domain>:6222) -> this machine's ports.
    for (const [k, v] of Object.entries(env)) {
      env[k] = v.replace(new RegExp(`${sts.metadata.name}-(\\d+)\\.${headless}\\.[a-z0-9.-]+:6222`, "g"), (_m, n: string) => {
        const target = ports[Number(n)];
        if (target === undefined) throw new Error(`route to a pod that does not exist: ${v}`);
        return `127.0.0.1:${target.cluster}`;
      });
    }
    const logFile = join(nodeDir, "server.log");
    const args = [...(container.args as string[])].map((a) => (a === "/etc/nats/nats.conf" ? confFile : a));
    const proc = spawn(bin, [...args, "--log", logFile], { env: { ...process.env, ...env }, stdio: "ignore" });
    procs.push(proc);
    nodes.push({ pod, clientPort: p.client, monitorPort: p.monitor, env, logFile });
  }

  const logs = (): string =>
    nodes
      .map((n) => {
        const lines = existsSync(n.logFile) ? readFileSync(n.logFile, "utf8").trim().split("\n").slice(-15) : ["(no log)"];
        return `--- ${n.pod}\n${lines.join("\n")}`;
      })
      .join("\n");
  const close = async (): Promise<void> => {
    await Promise.all(
      procs.map(
        (proc) =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once("exit", () => done());
            proc.kill("SIGKILL");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  return { nodes, logs, close };
}

/** GET on a node's monitoring port; resolves status and body (never throws on HTTP errors). */
export async function monitor(node: LocalNode, path: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.monitorPort}${path}`);
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
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
    }, 5_000);
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
