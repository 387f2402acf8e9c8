/**
 * Encryption of recordings at rest (AES-256-GCM, node:crypto). Each recording has a fresh
 * random data key, stored only wrapped by the master key; the key id names the master key so
 * keys can rotate. Each chunk is sealed on its own with a fresh nonce, and its additional data
 * binds it to the recording's header and its position, so chunks cannot be altered, swapped
 * between recordings or reordered without detection.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { VitrineError } from '../errors.ts';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** RECORDING_TAMPERED: a recording (or one of its chunks) does not authenticate. */
export class RecordingTamperedError extends VitrineError {
  constructor(what: string) {
    super('RECORDING_TAMPERED', `recording failed its integrity check: ${what}`);
    this.name = 'RecordingTamperedError';
  }
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

/** Parses a base64 master key; its id is a short hash of the key, never the key itself. */
export function masterKeyFrom(base64: string): MasterKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`recording master key must be ${KEY_BYTES} bytes of base64`);
  return { id: createHash('sha256').update('vitrine-recording-key').update(key).digest('hex').slice(0, 16), key };
}

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

export function open(key: Buffer, sealed: Buffer, aad: Buffer, what: string): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new RecordingTamperedError(`${what} is too short`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new RecordingTamperedError(`${what} does not authenticate`);
  }
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function wrapKey(master: MasterKey, dataKey: Buffer, recordingId: string): string {
  return seal(master.key, dataKey, Buffer.from(`wrap:${recordingId}`)).toString('base64');
}

export function unwrapKey(master: MasterKey, wrapped: string, recordingId: string): Buffer {
  return open(master.key, Buffer.from(wrapped, 'base64'), Buffer.from(`wrap:${recordingId}`), 'the wrapped data key');
}
