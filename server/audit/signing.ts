/**
 * Ed25519 keys that sign audit checkpoints and evidence packs. The signing key comes from
 * settings (PKCS8 PEM or a raw 32-byte seed in base64) with a key id; verifiers hold a keyring
 * of public keys by id, so a rotated-out key still verifies what it signed. node:crypto only.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonical } from './chain.ts';

export interface SigningKey {
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** Key id → public key. */
export type Keyring = ReadonlyMap<string, KeyObject>;

// The fixed DER prefixes of an Ed25519 PKCS8 private key and SPKI public key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** A private key from PKCS8 PEM or a base64 32-byte seed; throws with a plain reason. */
export function privateKeyFrom(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) {
    const k = createPrivateKey(t);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${k.asymmetricKeyType}`);
    return k;
  }
  const seed = Buffer.from(t, 'base64');
  if (seed.length !== 32) throw new Error('expected PKCS8 PEM or a 32-byte Ed25519 seed in base64');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** A public key from SPKI PEM or base64 of the raw 32 bytes. */
export function publicKeyFrom(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) {
    const k = createPublicKey(t);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${k.asymmetricKeyType}`);
    return k;
  }
  const raw = Buffer.from(t, 'base64');
  if (raw.length !== 32) throw new Error('expected SPKI PEM or a 32-byte Ed25519 public key in base64');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32 public bytes in base64: what operators paste into a keyring. */
export function rawPublicKey(k: KeyObject): string {
  return k.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');
}

/** A stable default id for a key: a short hash of its public bytes. */
export function defaultKeyId(publicKey: KeyObject): string {
  return `ed25519-${createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 12)}`;
}

export function signingKey(privateKey: KeyObject, id?: string): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return { id: id ?? defaultKeyId(publicKey), privateKey, publicKey };
}

/**
 * Parses a keyring: `id=key,id=key` (key as raw base64), or the text of a keyring file, a JSON
 * object {"id": "SPKI PEM or raw base64"}. Throws with the offending id.
 */
export function parseKeyring(text: string): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  const t = text.trim();
  if (!t) return out;
  const entries: [string, string][] = t.startsWith('{')
    ? Object.entries(JSON.parse(t) as Record<string, string>)
    : t.split(',').map((e) => {
        const i = e.indexOf('=');
        if (i <= 0) throw new Error(`keyring entry "${e.slice(0, 20)}" is not id=key`);
        return [e.slice(0, i).trim(), e.slice(i + 1).trim()];
      });
  for (const [id, key] of entries) {
    if (!KEY_ID.test(id)) throw new Error(`keyring id "${id.slice(0, 64)}" is not [A-Za-z0-9._-]{1,64}`);
    try {
      out.set(id, publicKeyFrom(String(key)));
    } catch (e) {
      throw new Error(`keyring key "${id}": ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}

/** Signs the canonical JSON of `body` (base64 signature). */
export function signBody(key: SigningKey, body: unknown): string {
  return sign(null, Buffer.from(canonical(body)), key.privateKey).toString('base64');
}

export type SignatureCheck = { ok: true } | { ok: false; problem: string };

/** Checks a signature made by signBody with the keyring's key of that id. */
export function verifyBody(keyring: Keyring, keyId: unknown, body: unknown, signature: unknown): SignatureCheck {
  if (typeof keyId !== 'string' || !keyring.has(keyId)) return { ok: false, problem: `signed with key id "${String(keyId).slice(0, 64)}", which is not in the keyring` };
  if (typeof signature !== 'string') return { ok: false, problem: 'no signature' };
  let good: boolean;
  try {
    good = verify(null, Buffer.from(canonical(body)), keyring.get(keyId)!, Buffer.from(signature, 'base64'));
  } catch {
    good = false;
  }
  return good ? { ok: true } : { ok: false, problem: `the signature does not verify with key "${keyId}" (forged or altered)` };
}
