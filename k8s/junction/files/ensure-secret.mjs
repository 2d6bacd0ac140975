// The chart's secrets, made once: the Secret is created when it is absent, and keys it lacks
// are added; a key that exists is never changed (running servers, gateways and clients keep
// working across upgrades). Runs in the Junction image as a Helm pre-install/pre-upgrade hook,
// after an init container ran `junction nats-config --generate` into JN_GENERATED_DIR (the issuer
// seed is an nkey, which Helm templates cannot make). Never prints a secret value.
//
// Environment:
//   JN_SECRET_NAME, JN_NAMESPACE  the Secret
//   JN_GENERATED_DIR              gateway-password, system-password, issuer-seed (from --generate)
//   JN_RANDOM_KEYS                comma-separated keys filled with random 32-character values
//   JN_SECRET_LABELS              JSON object of labels for a new Secret
//   JN_TOKEN_FILE                 the pod's service account token
// The API server is the in-cluster one (KUBERNETES_SERVICE_HOST/PORT, set by the kubelet); its
// CA comes through NODE_EXTRA_CA_CERTS.
import { randomInt } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const GENERATED = ["gateway-password", "system-password", "issuer-seed"];
/** An nkey account seed: "SA" and 56 base32 characters. */
const ACCOUNT_SEED = /^SA[A-Z2-7]{56}$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function fail(message) {
  console.error(`ensure-secret: ${message}`);
  process.exit(1);
}

function setting(name) {
  const v = process.env[name];
  if (v === undefined || v === "") fail(`${name} is not set`);
  return v;
}

/** URL-safe, so route-password can sit in a route URL. */
function randomValue() {
  let s = "";
  for (let i = 0; i < 32; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

function apiBase() {
  const host = setting("KUBERNETES_SERVICE_HOST");
  const port = process.env.KUBERNETES_SERVICE_PORT || "443";
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

const name = setting("JN_SECRET_NAME");
const namespace = setting("JN_NAMESPACE");
const generatedDir = setting("JN_GENERATED_DIR");
const randomKeys = (process.env.JN_RANDOM_KEYS ?? "")
  .split(",")
  .map((k) => k.trim())
  .filter((k) => k !== "" && !GENERATED.includes(k));
const labels = JSON.parse(process.env.JN_SECRET_LABELS || "{}");
const token = (await readFile(setting("JN_TOKEN_FILE"), "utf8")).trim();
const collection = `${apiBase()}/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
const resource = `${collection}/${encodeURIComponent(name)}`;

/** Every value this run could contribute, base64 (the generated files lose their trailing newline). */
const fresh = {};
for (const key of GENERATED) {
  const value = (await readFile(join(generatedDir, key), "utf8")).replace(/\r?\n$/, "");
  if (value === "") fail(`${join(generatedDir, key)} is empty`);
  fresh[key] = Buffer.from(value).toString("base64");
}
for (const key of randomKeys) fresh[key] = Buffer.from(randomValue()).toString("base64");

/** One API call; the body of an answer is parsed but never printed (it may hold the Secret). */
async function call(method, url, body, contentType = "application/json") {
  let res;
  try {
    res = await fetch(url, {
      method,
      signal: AbortSignal.timeout(30_000),
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": contentType }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    fail(`cannot reach the Kubernetes API (${method} ${url}): ${err?.cause?.message ?? err?.message ?? String(err)}`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

function refused(what, r) {
  const why = typeof r.json?.message === "string" ? r.json.message : "(no message)";
  const hint = r.status === 403 ? " (the hook's Role must allow get/create/patch on this Secret)" : "";
  return `${what} Secret ${namespace}/${name}: HTTP ${r.status}: ${why}${hint}`;
}

// A concurrent writer (another hook run, an operator) makes a create or patch conflict: read again.
for (let attempt = 1; attempt <= 5; attempt++) {
  const got = await call("GET", resource);
  if (got.status === 404) {
    const created = await call("POST", collection, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace, labels },
      type: "Opaque",
      data: fresh,
    });
    if (created.status === 201 || created.status === 200) {
      console.log(`ensure-secret: created Secret ${namespace}/${name} with keys ${Object.keys(fresh).sort().join(", ")}`);
      process.exit(0);
    }
    if (created.status === 409) continue;
    fail(refused("cannot create", created));
  }
  if (got.status !== 200) fail(refused("cannot read", got));
  const data = got.json?.data ?? {};
  const seed = data["issuer-seed"];
  if (seed !== undefined && !ACCOUNT_SEED.test(Buffer.from(seed, "base64").toString("utf8").trim())) {
    fail(
      `key issuer-seed of Secret ${namespace}/${name} is not an nkey account seed (SA...): make one with \`junction nats-config --generate <dir>\``,
    );
  }
  const missing = Object.keys(fresh).filter((k) => data[k] === undefined);
  if (missing.length === 0) {
    console.log(`ensure-secret: Secret ${namespace}/${name} has every key; nothing changed`);
    process.exit(0);
  }
  const patch = {
    metadata: { resourceVersion: got.json?.metadata?.resourceVersion },
    data: Object.fromEntries(missing.map((k) => [k, fresh[k]])),
  };
  const patched = await call("PATCH", resource, patch, "application/merge-patch+json");
  if (patched.status === 200) {
    console.log(`ensure-secret: added keys ${missing.sort().join(", ")} to Secret ${namespace}/${name}; kept the others`);
    process.exit(0);
  }
  if (patched.status === 409) continue;
  fail(refused("cannot update", patched));
}
fail(`Secret ${namespace}/${name} kept changing under this job; run the upgrade again`);
