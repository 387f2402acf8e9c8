/**
 * The policy engine: which selectors, which patterns and which frame rule apply to one URL
 * under one policy. Pure code, no browser. A policy is first compiled into plain JSON
 * sections; `mergeSections` turns those into what applies to a URL. The page runs the very
 * same `mergeSections` (shipped as source text), so server and page cannot disagree.
 */
import { createHash } from 'node:crypto';
import { BUILTIN_HIDES, BUILTIN_MASKS } from './builtins.ts';
import { ALWAYS_ON_PATTERNS, BUILTIN_PATTERNS, type PatternSpec } from './patterns.ts';
import type { GuardRule, PolicyFile } from './schema.ts';

export interface LoadedPolicy {
  name: string;
  version: string;
  file: PolicyFile;
  /** Warnings to log loudly (e.g. built-ins removed with the unsafe flag). */
  warnings: string[];
}

export interface Section {
  /** Regular expression source (case-insensitive) the URL must match; null for the base. */
  match: string | null;
  mode: 'add' | 'replace';
  mask?: string[];
  hide?: string[];
  unmask?: string[];
  patterns?: PatternSpec[];
  iframes?: 'mask' | 'block';
  guarded?: GuardRule[];
}

export interface CompiledPolicy {
  name: string;
  version: string;
  sections: Section[];
  builtinMasks: string[];
  builtinHides: string[];
  alwaysPatterns: PatternSpec[];
  unsafe: boolean;
}

export interface EffectivePolicy {
  name: string;
  version: string;
  mask: string[];
  hide: string[];
  patterns: PatternSpec[];
  iframes: 'mask' | 'block';
  /** Guarded actions for this URL (server/session/guards.ts); enforced on the server, not in the page. */
  guarded: GuardRule[];
  /** Indexes of the rules (sections after the base) that matched. */
  matchedRules: number[];
}

export function policyVersion(file: PolicyFile): string {
  return createHash('sha256').update(JSON.stringify(file)).digest('hex').slice(0, 12);
}

export function globToRegExpSource(glob: string): string {
  return `^${glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*+/g, '.*')
    .replace(/\?/g, '.')}$`;
}

function toPatterns(list: PolicyFile['patterns']): PatternSpec[] | undefined {
  return list?.map((p) => (typeof p === 'string' ? BUILTIN_PATTERNS[p]! : { name: p.name, source: p.regex, flags: `g${p.flags ?? ''}` }));
}

export function compilePolicy(policy: LoadedPolicy): CompiledPolicy {
  const f = policy.file;
  const sections: Section[] = [
    { match: null, mode: 'add', mask: f.mask, hide: f.hide, unmask: f.unmask, patterns: toPatterns(f.patterns), iframes: f.iframes, guarded: f.guarded },
    ...(f.rules ?? []).map((r) => ({
      match: 'glob' in r.match ? globToRegExpSource(r.match.glob) : r.match.regex,
      mode: r.mode ?? ('add' as const),
      mask: r.mask,
      hide: r.hide,
      unmask: r.unmask,
      patterns: toPatterns(r.patterns),
      iframes: r.iframes,
      guarded: r.guarded,
    })),
  ];
  return {
    name: policy.name,
    version: policy.version,
    sections: JSON.parse(JSON.stringify(sections)),
    builtinMasks: [...BUILTIN_MASKS],
    builtinHides: [...BUILTIN_HIDES],
    alwaysPatterns: ALWAYS_ON_PATTERNS.map((n) => BUILTIN_PATTERNS[n]!),
    unsafe: f.unsafe?.allowUnmaskBuiltins === true,
  };
}

/**
 * What applies to `url`. Self-contained on purpose: it is also evaluated inside pages, so it
 * may use nothing but its arguments and the language's built-ins.
 */
export function mergeSections(c: CompiledPolicy, url: string): EffectivePolicy {
  let mask: string[] = [];
  let hide: string[] = [];
  let unmask: string[] = [];
  let patterns: PatternSpec[] = [];
  let iframes: 'mask' | 'block' = 'mask';
  let guarded: GuardRule[] = [];
  const matchedRules: number[] = [];
  for (let i = 0; i < c.sections.length; i++) {
    const s = c.sections[i]!;
    if (s.match !== null) {
      if (!new RegExp(s.match, 'i').test(url)) continue;
      matchedRules.push(i - 1);
    }
    const replace = s.mode === 'replace';
    if (s.mask) mask = replace ? s.mask.slice() : mask.concat(s.mask);
    if (s.hide) hide = replace ? s.hide.slice() : hide.concat(s.hide);
    if (s.unmask) unmask = replace ? s.unmask.slice() : unmask.concat(s.unmask);
    if (s.patterns) patterns = replace ? s.patterns.slice() : patterns.concat(s.patterns);
    if (s.iframes) iframes = s.iframes;
    if (s.guarded) guarded = replace ? s.guarded.slice() : guarded.concat(s.guarded);
  }
  const removed = new Set(unmask);
  // Built-ins survive `unmask` unless the policy carries the explicit unsafe flag.
  const builtins = c.unsafe ? c.builtinMasks.filter((s) => !removed.has(s)) : c.builtinMasks;
  const always = c.unsafe ? c.alwaysPatterns.filter((p) => !removed.has(p.name)) : c.alwaysPatterns;
  const seen = new Set<string>();
  const allPatterns = always.concat(patterns).filter((p) => (seen.has(p.name) ? false : (seen.add(p.name), true)));
  return {
    name: c.name,
    version: c.version,
    mask: Array.from(new Set(builtins.concat(mask.filter((s) => !removed.has(s))))),
    hide: Array.from(new Set(c.builtinHides.concat(hide))),
    patterns: allPatterns,
    iframes,
    guarded,
    matchedRules,
  };
}

export function resolvePolicy(policy: LoadedPolicy, url: string): EffectivePolicy {
  return mergeSections(compilePolicy(policy), url);
}

/** The policy's guarded actions for a page address (server/session/guards.ts); compiled once. */
export function guardsFor(policy: LoadedPolicy): (url: string) => GuardRule[] {
  const f = policy.file;
  if (!f.guarded?.length && !f.rules?.some((r) => r.guarded?.length)) return () => [];
  const compiled = compilePolicy(policy);
  return (url) => mergeSections(compiled, url).guarded;
}

/** Warnings for a loaded policy: anything that weakens the built-in protections. */
export function policyWarnings(f: PolicyFile): string[] {
  if (!f.unsafe?.allowUnmaskBuiltins) return [];
  return [`UNSAFE: this policy may remove built-in masks (${(f.unmask ?? []).join(', ') || 'none listed'})`];
}

/** Whether a URL passes the policy's allow/deny lists (globs); deny wins. */
export function urlAllowedByPolicy(f: PolicyFile, url: string): boolean {
  const test = (g: string) => new RegExp(globToRegExpSource(g), 'i').test(url);
  if ((f.deny ?? []).some(test)) return false;
  if (f.allow && f.allow.length) return f.allow.some(test);
  return true;
}
