import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import forge from "node-forge";

/** The files of a local certificate authority and the server certificate it signed. */
export interface LocalTls {
  dir: string;
  /** The CA certificate clients verify the server with. */
  caFile: string;
  /** The server's certificate and key (for nats-server). */
  certFile: string;
  keyFile: string;
  /** A client certificate and key signed by the same CA (for a server that verifies clients). */
  clientCertFile: string;
  clientKeyFile: string;
}

const DAY_MS = 24 * 3600 * 1000;

function keyPair(): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits: 2048 });
}

function serial(): string {
  // A positive 64-bit serial (the top bit clear).
  return "0" + forge.util.bytesToHex(forge.random.getBytesSync(8)).slice(1);
}

function certificate(o: {
  cn: string;
  key: forge.pki.rsa.KeyPair;
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.KeyPair };
  ca?: boolean;
  hosts?: string[];
  client?: boolean;
  days: number;
}): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = o.key.publicKey;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + o.days * DAY_MS);
  const subject = [
    { name: "commonName", value: o.cn },
    { name: "organizationName", value: "Junction (local)" },
  ];
  c.setSubject(subject);
  c.setIssuer(o.issuer ? o.issuer.cert.subject.attributes : subject);
  const ext: object[] = [];
  if (o.ca)
    ext.push(
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    );
  else {
    ext.push({ name: "basicConstraints", cA: false }, { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true });
    ext.push({ name: "extKeyUsage", serverAuth: !o.client, clientAuth: true });
  }
  if (o.hosts) {
    ext.push({
      name: "subjectAltName",
      altNames: o.hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(":") ? { type: 7, ip: h } : { type: 2, value: h })),
    });
  }
  c.setExtensions(ext);
  c.sign((o.issuer ?? { key: o.key }).key.privateKey, forge.md.sha256.create());
  return c;
}

/**
 * Makes (once) a local CA and a server certificate for `hosts` in `dir` (`junction dev --tls`),
 * and a client certificate from the same CA. Files that exist are kept, so clients that trust the
 * CA keep working across restarts. Keys are written with mode 0600.
 */
export async function ensureLocalTls(dir: string, hosts: string[] = ["127.0.0.1", "localhost", "::1"]): Promise<LocalTls> {
  const files: LocalTls = {
    dir,
    caFile: join(dir, "ca.pem"),
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server-key.pem"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client-key.pem"),
  };
  try {
    await readFile(files.caFile);
    await readFile(files.keyFile);
    await readFile(files.clientKeyFile);
    return files;
  } catch {
    /* make them */
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = keyPair();
  const ca = certificate({ cn: "Junction local CA", key: caKey, ca: true, days: 3650 });
  const serverKey = keyPair();
  const server = certificate({ cn: "junction", key: serverKey, issuer: { cert: ca, key: caKey }, hosts, days: 825 });
  const clientKey = keyPair();
  const client = certificate({ cn: "junction-client", key: clientKey, issuer: { cert: ca, key: caKey }, client: true, days: 825 });
  const pem = forge.pki.certificateToPem;
  const keyPem = (k: forge.pki.rsa.KeyPair) => forge.pki.privateKeyToPem(k.privateKey);
  const write = async (file: string, text: string, mode: number) => {
    await writeFile(file, text, { mode });
    await chmod(file, mode);
  };
  await write(files.caFile, pem(ca), 0o644);
  await write(join(dir, "ca-key.pem"), keyPem(caKey), 0o600);
  await write(files.certFile, pem(server), 0o644);
  await write(files.keyFile, keyPem(serverKey), 0o600);
  await write(files.clientCertFile, pem(client), 0o644);
  await write(files.clientKeyFile, keyPem(clientKey), 0o600);
  return files;
}
