/**
 * `npm run docs:api` writes docs/openapi.json (the document /api/openapi.json serves) and
 * docs/api.md (the same, for people) from the route specs, so neither can drift from what the
 * server validates; test/openapi.test.ts checks both are current.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument, openApiJson } from './openapi.ts';

// JSON Schema as zod-openapi emits it, walked loosely: any field may hold any shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** One line for a JSON Schema: its type, enum or const, and any bounds worth saying. */
function typeOf(s: Json | undefined, doc: Json): string {
  if (!s) return '';
  if (s.$ref) return `[${s.$ref.split('/').pop()}](#${String(s.$ref.split('/').pop()).toLowerCase()})`;
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(' \\| ');
  if (s.anyOf || s.oneOf) return (s.anyOf ?? s.oneOf).map((x: Json) => typeOf(x, doc)).join(' or ');
  if (s.type === 'array') return `array of ${typeOf(s.items, doc)}`;
  if (s.type === 'object' && s.properties) return `object {${Object.keys(s.properties).join(', ')}}`;
  const bits = [s.format ?? s.type];
  if (s.maxLength) bits.push(`≤ ${s.maxLength} chars`);
  if (s.pattern) bits.push(`\`${s.pattern.replace(/\|/g, '\\|')}\``);
  return bits.filter(Boolean).join(', ');
}

function fields(schema: Json | undefined, doc: Json): string[] {
  const s = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
  if (!s?.properties) return schema ? [`Body: ${typeOf(schema, doc)}`, ''] : [];
  const req = new Set<string>(s.required ?? []);
  return [
    '| Field | Type | Required | Meaning |',
    '| --- | --- | --- | --- |',
    ...Object.entries<Json>(s.properties).map(([k, v]) => `| \`${k}\` | ${typeOf(v, doc)} | ${req.has(k) ? 'yes' : 'no'} | ${(v.description ?? '').replace(/\|/g, '\\|')} |`),
    '',
  ];
}

export function apiMarkdown(): string {
  const doc = openApiDocument() as Json;
  const out: string[] = [
    '# REST API',
    '',
    'Generated from `server/contract/` by `npm run docs:api`; the machine-readable form is',
    '[openapi.json](openapi.json) (OpenAPI 3.1), also served by every server at `/api/openapi.json`.',
    'Staff calls take `Authorization: Bearer <JWT>`. Every refusal is `{"error":{"code","message"}}`:',
    'match on the code (docs/protocol.md lists them all), never on the message. The typed client is',
    '[the SDK](sdk.md).',
    '',
  ];
  for (const tag of doc.tags as Json[]) {
    out.push(`## ${tag.name}`, '');
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        if (!op.tags?.includes(tag.name)) continue;
        const auth = op.security?.[0] ? Object.keys(op.security[0])[0] : 'none';
        out.push(`### \`${method.toUpperCase()} ${path}\``, '', `${op.summary}. Auth: ${auth}.`, '');
        if (op.description) out.push(op.description, '');
        for (const p of (op.parameters ?? []) as Json[]) out.push(`- ${p.in} parameter \`${p.name}\`${p.required ? ' (required)' : ''}: ${typeOf(p.schema, doc)}`);
        if (op.parameters?.length) out.push('');
        if (op.requestBody) out.push('Request body (JSON):', '', ...fields(op.requestBody.content['application/json'].schema, doc));
        out.push('| Status | Answer |', '| --- | --- |');
        for (const [status, r] of Object.entries<Json>(op.responses)) {
          const media = r.content ? Object.keys(r.content)[0] : '';
          const schema = r.content?.['application/json']?.schema;
          const what = Number(status) >= 400 ? r.description : `${r.description}${media ? ` (${media}${schema && media === 'application/json' ? `: ${typeOf(schema, doc)}` : ''})` : ''}`;
          out.push(`| ${status} | ${what.replace(/\|/g, '\\|')} |`);
        }
        out.push('');
      }
    }
  }
  out.push('## Schemas', '');
  for (const [name, s] of Object.entries<Json>(doc.components.schemas)) {
    out.push(`### ${name}`, '');
    if (s.description) out.push(s.description, '');
    out.push(...(s.properties ? fields(s, doc) : [typeOf(s, doc), '']));
  }
  out.push(
    '## Webhook events',
    '',
    'Signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); the body is `{type, timestamp, data}`. The SDK verifies and parses them (docs/sdk.md).',
    '',
  );
  for (const type of Object.keys(doc.webhooks)) out.push(`- \`${type}\``);
  out.push('');
  return out.join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const docs = join(import.meta.dirname, '..', '..', 'docs');
  writeFileSync(join(docs, 'openapi.json'), openApiJson());
  writeFileSync(join(docs, 'api.md'), apiMarkdown());
  console.log('docs/openapi.json and docs/api.md written');
}
