/**
 * Loads every policy file of a directory once at start (name = file name without .yaml),
 * validates each, and refuses to start when any is invalid, listing every problem.
 */
import type { ClipboardPolicy, FilesPolicy } from './schema.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { VitrineError } from '../errors.ts';
import { BUILTIN_CONSENT_TEXT } from './builtins.ts';
import { policyVersion, policyWarnings, type LoadedPolicy } from './engine.ts';
import { validatePolicy } from './schema.ts';

/** POLICY_INVALID: the policy directory the server was given does not load. */
export class PolicyLoadError extends VitrineError {
  constructor(readonly problems: string[]) {
    super('POLICY_INVALID', `invalid policies:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyLoadError';
  }
}

/** Parses and validates one policy file's text; problems carry the file name and path. */
export function parsePolicy(name: string, text: string): { policy?: LoadedPolicy; problems: string[] } {
  let raw: unknown;
  try {
    raw = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    return { problems: [`${name}: YAML: ${(e as Error).message.split('\n')[0]}`] };
  }
  const r = validatePolicy(raw);
  if (!r.ok) return { problems: r.problems.map((p) => `${name}: ${p}`) };
  return { policy: { name, version: policyVersion(r.policy), file: r.policy, warnings: policyWarnings(r.policy) }, problems: [] };
}

export class PolicyStore {
  readonly #policies = new Map<string, LoadedPolicy>();

  constructor(policies: LoadedPolicy[]) {
    for (const p of policies) this.#policies.set(p.name, p);
  }

  static load(dir: string): PolicyStore {
    const problems: string[] = [];
    const loaded: LoadedPolicy[] = [];
    for (const f of readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const name = basename(f).replace(/\.ya?ml$/, '');
      const r = parsePolicy(name, readFileSync(join(dir, f), 'utf8'));
      problems.push(...r.problems);
      if (r.policy) loaded.push(r.policy);
    }
    if (!loaded.some((p) => p.name === 'default') && !problems.length) problems.push(`${dir}: there is no default.yaml`);
    if (problems.length) throw new PolicyLoadError(problems);
    return new PolicyStore(loaded);
  }

  names(): string[] {
    return [...this.#policies.keys()];
  }

  get(name: string): LoadedPolicy | undefined {
    return this.#policies.get(name);
  }

  require(name: string): LoadedPolicy {
    const p = this.#policies.get(name);
    if (!p) throw new VitrineError('BAD_REQUEST', `unknown policy "${name}"`);
    return p;
  }

  summary(name: string): {
    masked: string[];
    record: boolean;
    retentionDays: number | null;
    idleMs: number | null;
    maxDurationMs: number | null;
    files?: FilesPolicy;
    watermark?: 'off' | 'corner' | 'tiled';
    clipboard: ClipboardPolicy;
  } {
    const f = this.require(name).file;
    return {
      masked: [...BUILTIN_CONSENT_TEXT, ...(f.consentText ?? [])],
      record: f.recording?.enabled ?? false,
      retentionDays: f.recording?.retentionDays ?? null,
      idleMs: f.session?.idleSeconds ? f.session.idleSeconds * 1000 : null,
      maxDurationMs: f.session?.maxMinutes ? f.session.maxMinutes * 60_000 : null,
      ...(f.files ? { files: f.files } : {}),
      ...(f.watermark ? { watermark: f.watermark } : {}),
      clipboard: { paste: f.clipboard?.paste ?? 'control', copy: f.clipboard?.copy ?? 'customer' },
    };
  }
}
