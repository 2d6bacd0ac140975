import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** A stored password: never the password itself, only a salted scrypt hash. */
export interface PasswordHash {
  algo: "scrypt";
  /** base64 */
  salt: string;
  /** base64 */
  hash: string;
  N: number;
  r: number;
  p: number;
}

/** scrypt cost: 2^15 (~50 ms, 32 MiB per check on a small machine) — slow enough to make guessing expensive. */
export const SCRYPT_COST = Object.freeze({ N: 1 << 15, r: 8, p: 1 });

function scrypt(password: string, salt: Buffer, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 128 * o.N * o.r * 2 };
  return new Promise((resolve, reject) => scryptCb(password, salt, 32, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes a password with a fresh salt. */
export async function hashPassword(password: string, cost = SCRYPT_COST): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, cost);
  return { algo: "scrypt", salt: salt.toString("base64"), hash: hash.toString("base64"), ...cost };
}

/** Checks a password against its hash (constant-time compare). */
export async function verifyPassword(password: string, h: PasswordHash): Promise<boolean> {
  if (h.algo !== "scrypt") return false;
  const expected = Buffer.from(h.hash, "base64");
  const got = await scrypt(password, Buffer.from(h.salt, "base64"), h);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** A random password (URL-safe, 144 bits). */
export function randomPassword(): string {
  return randomBytes(18).toString("base64url");
}

/** Whether a stored hash has the expected shape (stored data is untrusted). */
export function isPasswordHash(v: unknown): v is PasswordHash {
  if (typeof v !== "object" || v === null) return false;
  const h = v as Record<string, unknown>;
  const n = (x: unknown, max: number) => typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= max;
  return (
    h["algo"] === "scrypt" &&
    typeof h["salt"] === "string" &&
    typeof h["hash"] === "string" &&
    n(h["N"], 1 << 20) &&
    n(h["r"], 32) &&
    n(h["p"], 16)
  );
}
