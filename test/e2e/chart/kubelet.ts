/**
 * Just enough Kubernetes to run the chart's rendered pods on this machine: a fake API server
 * that stores Secrets (what the hook Job talks to), and a pod runner that does what a kubelet
 * does before it starts a container — materializes its volumes (ConfigMaps, Secrets, projected
 * volumes, emptyDirs, claims, the service account token) under a per-pod root directory,
 * resolves its environment (secretKeyRef, fieldRef, envFrom, $(VAR)) and maps the container's
 * absolute paths onto that root. The container images become local programs: the Junction image
 * is the built CLI (dist/cli/main.js behind the image's entrypoint), the NATS image the local
 * nats-server.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createNetServer } from "node:net";
import { dirname, join } from "node:path";
import { ensureLocalTls } from "../../../core/server/index.js";
import { ROOT, find, type K8sObject } from "./helm.js";

/** The built CLI the Junction image runs. */
export const CLI_MAIN = join(ROOT, "dist/cli/main.js");

/** A Secret as the fake API server stores it: base64 values. */
interface StoredSecret {
  data: Record<string, string>;
  labels: Record<string, string>;
  resourceVersion: number;
}

/**
 * A fake Kubernetes API server (HTTPS, bearer token) holding the Secrets of one namespace:
 * GET/POST/PATCH (JSON merge patch, with resourceVersion checks) of v1 Secrets.
 */
export class FakeKube {
  readonly namespace: string;
  readonly token = randomBytes(16).toString("hex");
  /** "METHOD path" of every request, in order. */
  readonly requests: string[] = [];
  /** When set, every request is refused with 403 (RBAC missing). */
  forbid = false;
  readonly #secrets = new Map<string, StoredSecret>();
  readonly #server: Server;
  readonly port: number;
  readonly caFile: string;

  private constructor(namespace: string, server: Server, port: number, caFile: string) {
    this.namespace = namespace;
    this.#server = server;
    this.port = port;
    this.caFile = caFile;
  }

  /** Starts the server on a free local port; its certificate is made in `dir`. */
  static async start(namespace: string, dir: string): Promise<FakeKube> {
    const tls = await ensureLocalTls(join(dir, "kube-api-tls"), ["127.0.0.1"]);
    // The handler needs the instance, which needs the server's port: bound once listening.
    const self: { kube?: FakeKube } = {};
    const server = createServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, (req, res) => {
      void self.kube!.#handle(req, res);
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const addr = server.address();
    const port = typeof addr === "object" && addr !== null ? addr.port : 0;
    self.kube = new FakeKube(namespace, server, port, tls.caFile);
    return self.kube;
  }

  /** Creates or replaces a Secret (plain values), as an operator would with kubectl. */
  putSecret(name: string, values: Record<string, string>): void {
    const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    const rv = (this.#secrets.get(name)?.resourceVersion ?? 0) + 1;
    this.#secrets.set(name, { data, labels: {}, resourceVersion: rv });
  }

  /** The decoded values of a Secret, or undefined when it does not exist. */
  secret(name: string): Record<string, string> | undefined {
    const s = this.#secrets.get(name);
    if (s === undefined) return undefined;
    return Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  }

  /** Labels of a stored Secret. */
  labels(name: string): Record<string, string> | undefined {
    return this.#secrets.get(name)?.labels;
  }

  async close(): Promise<void> {
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = new URL(req.url ?? "/", "https://x").pathname;
    this.requests.push(`${req.method ?? "?"} ${path}`);
    const reply = (code: number, o: unknown) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(o));
    };
    const status = (code: number, message: string) => reply(code, { kind: "Status", apiVersion: "v1", status: "Failure", message, code });
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, "Unauthorized");
    if (this.forbid) return status(403, `secrets is forbidden: User "system:serviceaccount:${this.namespace}:x" cannot do this`);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(path);
    if (m === null) return status(404, "the server could not find the requested resource");
    if (m[1] !== this.namespace) return status(403, `no access to namespace ${m[1]}`);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const view = (n: string, s: StoredSecret) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: n, namespace: this.namespace, labels: s.labels, resourceVersion: String(s.resourceVersion) },
      type: "Opaque",
      data: s.data,
    });
    if (req.method === "GET" && name !== undefined) {
      const s = this.#secrets.get(name);
      return s === undefined ? status(404, `secrets "${name}" not found`) : reply(200, view(name, s));
    }
    if (req.method === "POST" && name === undefined) {
      const o = JSON.parse(body) as { metadata: { name: string; labels?: Record<string, string> }; data?: Record<string, string> };
      if (this.#secrets.has(o.metadata.name)) return status(409, `secrets "${o.metadata.name}" already exists`);
      const s = { data: o.data ?? {}, labels: o.metadata.labels ?? {}, resourceVersion: 1 };
      this.#secrets.set(o.metadata.name, s);
      return reply(201, view(o.metadata.name, s));
    }
    if (req.method === "PATCH" && name !== undefined) {
      if (req.headers["content-type"] !== "application/merge-patch+json") return status(415, "unsupported patch type");
      const s = this.#secrets.get(name);
      if (s === undefined) return status(404, `secrets "${name}" not found`);
      const o = JSON.parse(body) as { metadata?: { resourceVersion?: string }; data?: Record<string, string | null> };
      const rv = o.metadata?.resourceVersion;
      if (rv !== undefined && rv !== String(s.resourceVersion)) return status(409, "the object has been modified");
      for (const [k, v] of Object.entries(o.data ?? {})) {
        if (v === null) delete s.data[k];
        else s.data[k] = v;
      }
      s.resourceVersion++;
      return reply(200, view(name, s));
    }
    return status(405, "method not allowed");
  }
}

/** A free local TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

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

// Loosely typed pod specs: the shapes were validated by kubernetes-models.
type Any = any;

/** Where a service account token is mounted in every container that has one. */
const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod template of a rendered workload (Deployment, StatefulSet, Job). */
export function podTemplate(objects: readonly K8sObject[], kind: string, name: string): Any {
  return (find(objects, kind, name) as Any).spec.template;
}

/** A container's result when run to completion. */
export interface Completed {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * One pod of a rendered workload, on this machine: `root` stands for the container file
 * system root. Volumes are materialized once per pod (`<root>/.volumes/<name>`) and mounted by
 * symlinks at `<root><mountPath>`, so containers of a pod share emptyDirs as in Kubernetes.
 */
export class LocalPod {
  readonly name: string;
  readonly root: string;
  readonly #kube: FakeKube;
  readonly #objects: readonly K8sObject[];
  readonly #spec: Any;
  readonly #claims: readonly string[];
  readonly #procs: ChildProcess[] = [];

  /**
   * @param claims names of volumeClaimTemplates (StatefulSet): each becomes an empty directory.
   */
  constructor(o: { name: string; root: string; kube: FakeKube; objects: readonly K8sObject[]; template: Any; claims?: readonly string[] }) {
    this.name = o.name;
    this.root = o.root;
    this.#kube = o.kube;
    this.#objects = o.objects;
    this.#spec = o.template.spec;
    this.#claims = o.claims ?? [];
    mkdirSync(join(this.root, ".volumes"), { recursive: true });
  }

  /** A container of the pod by name (init containers included). */
  container(name: string): Any {
    const all = [...((this.#spec.initContainers as Any[] | undefined) ?? []), ...(this.#spec.containers as Any[])];
    const c = all.find((x) => x.name === name);
    if (c === undefined) throw new Error(`pod ${this.name} has no container ${name}`);
    return c;
  }

  /** The host path of a path inside `container` (under one of its mounts), else the path unchanged. */
  hostPath(container: Any, path: string): string {
    if (!path.startsWith("/")) return path;
    for (const m of this.#mounts(container)) {
      if (path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, "")}/`)) return join(this.root, path);
    }
    return path;
  }

  /** Materializes the container's volumes (idempotent per volume). */
  mount(container: Any): void {
    for (const m of this.#mounts(container)) {
      const dir = join(this.root, ".volumes", m.name);
      if (!existsSync(dir)) this.#materialize(m.name, dir);
      const at = join(this.root, m.mountPath);
      if (existsSync(at)) continue;
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(dir, at);
    }
  }

  /** The container's environment as the kubelet gives it (plus KUBERNETES_SERVICE_* for the fake API). */
  env(container: Any): Record<string, string> {
    const out: Record<string, string> = {
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: String(this.#kube.port),
    };
    for (const from of (container.envFrom as Any[] | undefined) ?? []) {
      if (from.configMapRef === undefined) throw new Error(`envFrom: only configMapRef is supported`);
      const cm = find(this.#objects, "ConfigMap", from.configMapRef.name) as Any;
      Object.assign(out, cm.data);
    }
    for (const v of (container.env as Any[] | undefined) ?? []) {
      const ref = v.valueFrom;
      if (ref?.secretKeyRef !== undefined) {
        const value = this.#kube.secret(ref.secretKeyRef.name)?.[ref.secretKeyRef.key];
        if (value === undefined) throw new Error(`env ${v.name}: Secret ${ref.secretKeyRef.name} has no key ${ref.secretKeyRef.key}`);
        out[v.name] = value;
      } else if (ref?.fieldRef !== undefined) {
        const field = ref.fieldRef.fieldPath as string;
        if (field === "metadata.name") out[v.name] = this.name;
        else if (field === "metadata.namespace") out[v.name] = this.#kube.namespace;
        else throw new Error(`env ${v.name}: unsupported fieldRef ${field}`);
      } else if (ref !== undefined) {
        throw new Error(`env ${v.name}: unsupported valueFrom`);
      } else {
        // $(NAME) refers to an earlier variable; $$ escapes.
        out[v.name] = String(v.value ?? "").replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
          name === undefined ? "$" : (out[name] ?? m),
        );
      }
    }
    // Paths inside the container's mounts become paths under this pod's root.
    for (const [k, v] of Object.entries(out)) out[k] = this.hostPath(container, v);
    return out;
  }

  /** The command line the container's image runs, with paths mapped to this pod's root. */
  argv(container: Any): string[] {
    const image = container.image as string;
    const command = (container.command as string[] | undefined) ?? [];
    const args = ((container.args as string[] | undefined) ?? []).map((a) => this.hostPath(container, a));
    if (image.startsWith("nats:")) {
      if (command[0] !== "nats-server") throw new Error(`nats container runs ${command.join(" ")}, expected nats-server`);
      return [natsServerBinary(), ...args];
    }
    if (image.startsWith("junction-broker/junction:")) {
      if (command.length === 0) return [process.execPath, "--no-node-snapshot", CLI_MAIN, ...args];
      if (command[0] === "node" && command.length === 2) return [process.execPath, this.hostPath(container, command[1]!), ...args];
      throw new Error(`unexpected command for the Junction image: ${command.join(" ")}`);
    }
    throw new Error(`no local stand-in for image ${image}`);
  }

  /**
   * Mounts, then runs the container to completion (an init container, a Job's container).
   * Asynchronous: the fake API server lives in this process and must answer meanwhile.
   */
  async run(name: string, extraEnv: Record<string, string> = {}): Promise<Completed> {
    const c = this.container(name);
    this.mount(c);
    const [bin, ...args] = this.argv(c);
    const child = spawn(bin!, args, { cwd: this.root, env: { PATH: process.env["PATH"] ?? "", ...this.env(c), ...extraEnv } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((done, fail) => {
      child.once("error", fail);
      child.once("close", (exit) => done(exit));
    }).finally(() => clearTimeout(timer));
    return { code, stdout, stderr };
  }

  /** Like {@link run}, and throws with the output when the container fails. */
  async runOk(name: string, extraEnv: Record<string, string> = {}): Promise<Completed> {
    const r = await this.run(name, extraEnv);
    if (r.code !== 0) throw new Error(`container ${name} of ${this.name} exited ${String(r.code)}:\n${r.stderr}${r.stdout}`);
    return r;
  }

  /**
   * Mounts, then starts a long-running container; `env` entries override the resolved ones
   * (ports and addresses that cannot exist outside a cluster). Output goes to `<root>/<name>.log`.
   */
  start(name: string, env: Record<string, string> = {}, argv?: (a: string[]) => string[]): { proc: ChildProcess; logFile: string } {
    const c = this.container(name);
    this.mount(c);
    const logFile = join(this.root, `${name}.log`);
    const fd = openSync(logFile, "a");
    const full = (argv ?? ((a) => a))(this.argv(c));
    const proc = spawn(full[0]!, full.slice(1), {
      cwd: this.root,
      env: { PATH: process.env["PATH"] ?? "", ...this.env(c), ...env },
      stdio: ["ignore", fd, fd],
    });
    this.#procs.push(proc);
    return { proc, logFile };
  }

  /** Kills what {@link start} started. */
  async stop(): Promise<void> {
    await Promise.all(
      this.#procs.map(
        (proc) =>
          new Promise<void>((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done();
            proc.once("exit", () => done());
            proc.kill("SIGKILL");
          }),
      ),
    );
  }

  #mounts(container: Any): { name: string; mountPath: string }[] {
    const mounts = [...((container.volumeMounts as Any[] | undefined) ?? [])] as { name: string; mountPath: string }[];
    if (this.#spec.automountServiceAccountToken === true) mounts.push({ name: "kube-api-access", mountPath: SA_DIR });
    return mounts;
  }

  #materialize(name: string, dir: string): void {
    mkdirSync(dir, { recursive: true });
    const write = (path: string, value: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), value, { mode: 0o600 });
    };
    if (name === "kube-api-access") {
      write("token", this.#kube.token);
      write("ca.crt", readFileSync(this.#kube.caFile, "utf8"));
      write("namespace", this.#kube.namespace);
      return;
    }
    if (this.#claims.includes(name)) return;
    const volume = ((this.#spec.volumes as Any[] | undefined) ?? []).find((v) => v.name === name);
    if (volume === undefined) throw new Error(`pod ${this.name}: volume ${name} is mounted but not defined`);
    const fromConfigMap = (cmName: string, items: Any[] | undefined) => {
      const data = (find(this.#objects, "ConfigMap", cmName) as Any).data as Record<string, string>;
      for (const it of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        const v = data[it.key];
        if (v === undefined) throw new Error(`volume ${name}: ConfigMap ${cmName} has no key ${it.key}`);
        write(it.path, v);
      }
    };
    const fromSecret = (secretName: string, items: Any[] | undefined) => {
      const data = this.#kube.secret(secretName);
      // The kubelet does not start a pod whose Secret is missing.
      if (data === undefined) throw new Error(`volume ${name}: Secret ${secretName} does not exist`);
      for (const it of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        const v = data[it.key];
        if (v === undefined) throw new Error(`volume ${name}: Secret ${secretName} has no key ${it.key}`);
        write(it.path, v);
      }
    };
    if (volume.emptyDir !== undefined) return;
    if (volume.configMap !== undefined) return fromConfigMap(volume.configMap.name, volume.configMap.items);
    if (volume.secret !== undefined) return fromSecret(volume.secret.secretName, volume.secret.items);
    if (volume.projected !== undefined) {
      for (const s of volume.projected.sources as Any[]) {
        if (s.configMap !== undefined) fromConfigMap(s.configMap.name, s.configMap.items);
        else if (s.secret !== undefined) fromSecret(s.secret.name, s.secret.items);
        else throw new Error(`volume ${name}: unsupported projected source`);
      }
      return;
    }
    throw new Error(`volume ${name}: unsupported kind ${Object.keys(volume).join(",")}`);
  }
}
