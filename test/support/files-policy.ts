/**
 * A policy directory with the shipped policies plus `files`: uploads of text and PDF up to
 * 1000 bytes and downloads up to 100 kB (document handoff tests). Remove it after the test.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FILES_POLICY =
  'description: document handoff test\nfiles:\n  upload:\n    allow: true\n    types: [text/plain, .txt, application/pdf]\n    maxBytes: 1000\n  download:\n    allow: true\n    maxBytes: 100000\n';

export function filesPolicyDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'vitrine-files-policies-'));
  cpSync(join(import.meta.dirname, '..', '..', 'policies'), dir, { recursive: true });
  writeFileSync(join(dir, 'files.yaml'), FILES_POLICY);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
