/**
 * Text patterns the redaction engine knows by name, and the checksums that keep them precise
 * (a Luhn-valid card number is masked, a reference number of the same shape is not). Pure.
 * `luhnValid` and `ibanValid` are also shipped into pages as source text, so they must stay
 * self-contained functions.
 */
export interface PatternSpec {
  name: string;
  source: string;
  flags: string;
  check?: 'luhn' | 'iban';
  /** Also mask an editable field whose value could be the start of this pattern (while typing). */
  prefix?: { source: string; flags: string };
}

export const BUILTIN_PATTERNS: Record<string, PatternSpec> = {
  // 13 to 19 digits, optionally grouped by single spaces or dashes.
  'card-number': {
    name: 'card-number',
    source: '(?<![\\d])(?:\\d[ -]?){12,18}\\d(?![\\d])',
    flags: 'g',
    check: 'luhn',
    // Any digit typed into a field could be the first of a card number, and a frame is sent
    // after every keystroke: fail closed and mask an editable field from its first digit.
    prefix: { source: '\\d', flags: '' },
  },
  iban: {
    name: 'iban',
    source: '\\b[A-Z]{2}\\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\\b',
    flags: 'gi',
    check: 'iban',
    prefix: { source: '\\b[A-Z]{2}\\d{2}[ ]?[A-Z0-9]{4}', flags: 'i' },
  },
  'us-ssn': {
    name: 'us-ssn',
    source: '(?<!\\d)(?!000|666|9\\d\\d)\\d{3}[- ]?(?!00)\\d{2}[- ]?(?!0000)\\d{4}(?!\\d)',
    flags: 'g',
    prefix: { source: '(?<!\\d)\\d{3}[- ]\\d{2}', flags: '' },
  },
  email: { name: 'email', source: '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}', flags: 'g' },
  phone: { name: 'phone', source: '(?<![\\w])\\+?\\d{1,3}[ .-]?\\(?\\d{2,4}\\)?[ .-]?\\d{3,4}[ .-]?\\d{3,4}(?![\\w])', flags: 'g' },
};

/** Names always in force whatever the policy says (removable only with the unsafe flag). */
export const ALWAYS_ON_PATTERNS = ['card-number'] as const;

export function luhnValid(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  if (digits.length < 12 || digits.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function ibanValid(text: string): boolean {
  const s = text.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** Finds pattern matches in text the way the page does; for tests and previews. */
export function findMatches(text: string, patterns: PatternSpec[]): { pattern: string; match: string }[] {
  const out: { pattern: string; match: string }[] = [];
  for (const p of patterns) {
    const re = new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`);
    for (const m of text.matchAll(re)) {
      if (p.check === 'luhn' && !luhnValid(m[0])) continue;
      if (p.check === 'iban' && !ibanValid(m[0])) continue;
      out.push({ pattern: p.name, match: m[0] });
    }
  }
  return out;
}
