/**
 * Join codes across the cluster (server/session/join-codes.ts keeps the codes themselves, on the
 * node that runs their session). Redis learns only an HMAC of each live code under the cluster
 * secret, with the owner node: six digits hashed without a key would be reversed by trying all
 * 10^6, so a plain hash would put every live code in the hands of whoever reads Redis.
 */
import { createHmac } from 'node:crypto';
import type { SharedCodes } from '../session/join-codes.ts';
import type { ClusterDirectory } from './directory.ts';

/** What shared join codes need of the directory: the codes' owners and the wrong-guess count. */
export type JoinCodeRecords = Pick<ClusterDirectory, 'connected' | 'putJoinCode' | 'joinCodeOwner' | 'dropJoinCode' | 'addJoinWrong' | 'joinWrong'>;

export class SharedJoinCodes implements SharedCodes {
  readonly self: string;
  readonly #directory: JoinCodeRecords;
  readonly #secret: string;

  constructor(self: string, directory: JoinCodeRecords, secret: string) {
    this.self = self;
    this.#directory = directory;
    this.#secret = secret;
  }

  #hash(code: string): string {
    return createHmac('sha256', this.#secret).update(`vitrine-join-code:${code}`).digest('base64url');
  }

  // Redis away: callers fall back to this node alone (join-codes.ts catches).
  #up(): void {
    if (!this.#directory.connected) throw new Error('cluster directory unreachable');
  }

  async put(code: string, ttlMs: number): Promise<boolean> {
    this.#up();
    return this.#directory.putJoinCode(this.#hash(code), this.self, ttlMs);
  }

  async owner(code: string): Promise<string | null> {
    this.#up();
    return this.#directory.joinCodeOwner(this.#hash(code));
  }

  async drop(code: string): Promise<void> {
    this.#up();
    await this.#directory.dropJoinCode(this.#hash(code), this.self);
  }

  async addWrong(): Promise<number> {
    this.#up();
    return this.#directory.addJoinWrong();
  }

  async wrongTotal(): Promise<number> {
    this.#up();
    return this.#directory.joinWrong();
  }
}
