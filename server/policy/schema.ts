/**
 * The policy file format (YAML), validated with zod: unknown keys are refused and every
 * problem is reported with its path.
 */
import { z } from 'zod';
import { BUILTIN_PATTERNS } from './patterns.ts';

const selector = z.string().min(1).max(500);
const builtinName = z.enum(Object.keys(BUILTIN_PATTERNS) as [string, ...string[]]);
const customPattern = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'lower-case letters, digits and dashes'),
    regex: z.string().min(1).max(500),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only i, m, s and u flags')
      .optional(),
  })
  .strict()
  .refine((p) => {
    try {
      new RegExp(p.regex, p.flags);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

/**
 * A guarded action (docs/redaction.md#guarded-actions): an element staff input may never
 * activate, named by CSS selector and/or accessible name (and role). `customer-only` (default):
 * only the customer's own click or key activates it; `confirm`: an agent's click is held until
 * the customer confirms it in their view.
 */
export const GuardRuleSchema = z
  .object({
    selector: selector.optional(),
    /** The accessible name, compared case-insensitively with white space collapsed; or a regex. */
    name: z
      .union([
        z.string().min(1).max(200),
        z
          .object({
            regex: z.string().min(1).max(500),
            flags: z
              .string()
              .regex(/^[imsu]*$/, 'only i, m, s and u flags')
              .optional(),
          })
          .strict()
          .refine((n) => {
            try {
              new RegExp(n.regex, n.flags);
              return true;
            } catch {
              return false;
            }
          }, 'not a valid regular expression'),
      ])
      .optional(),
    /** The ARIA role the named element has (button, link, menuitem…); with `name` only. */
    role: z
      .string()
      .regex(/^[a-zA-Z]{1,40}$/, 'an ARIA role such as button or link')
      .optional(),
    mode: z.enum(['customer-only', 'confirm']).optional(),
    /** With `mode: confirm`: how long the customer has to answer before the held click is dropped (default 60). */
    confirmSeconds: z.number().int().min(1).max(600).optional(),
    /** What the action is called in refusals and in the customer's confirmation prompt. */
    label: z.string().min(1).max(80).optional(),
  })
  .strict()
  .refine((g) => g.selector !== undefined || g.name !== undefined, 'a guard names a selector, an accessible name, or both')
  .refine((g) => g.role === undefined || g.name !== undefined, 'role is checked together with name')
  .refine((g) => g.confirmSeconds === undefined || g.mode === 'confirm', 'confirmSeconds is for mode: confirm');

const section = {
  guarded: z.array(GuardRuleSchema).max(100).optional(),
  mask: z.array(selector).optional(),
  hide: z.array(selector).optional(),
  unmask: z.array(selector).optional(),
  patterns: z.array(z.union([builtinName, customPattern])).optional(),
  iframes: z.enum(['mask', 'block']).optional(),
};

export const RuleSchema = z
  .object({
    match: z.union([
      z.object({ glob: z.string().min(1).max(500) }).strict(),
      z
        .object({ regex: z.string().min(1).max(500) })
        .strict()
        .refine((m) => {
          try {
            new RegExp(m.regex);
            return true;
          } catch {
            return false;
          }
        }, 'not a valid regular expression'),
    ]),
    /** add (default): combine with the base; replace: the rule's lists replace the base's. */
    mode: z.enum(['add', 'replace']).optional(),
    ...section,
  })
  .strict();

/** Document handoff (server/files/): what may cross the session, in either direction. */
const fileRule = z
  .object({
    allow: z.boolean(),
    /** MIME types (`application/pdf`, `image/*`) or extensions (`.pdf`); unset: any type. */
    types: z
      .array(z.string().regex(/^(\.[a-z0-9]{1,16}|[a-z0-9.+-]+\/([a-z0-9.+-]+|\*))$/i, 'a MIME type (image/png, image/*) or an extension (.pdf)'))
      .max(50)
      .optional(),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .max(100 * 1024 * 1024)
      .optional(),
  })
  .strict();
export const FilesPolicySchema = z.object({ upload: fileRule.optional(), download: fileRule.optional() }).strict();
export type FilesPolicy = z.infer<typeof FilesPolicySchema>;

/**
 * The clipboard (server/session/clipboard.ts). `paste`: who may paste text from their own device
 * into the page (control: whoever may give input, the default); `copy`: where text copied in the
 * page goes (customer: to the customer's device alone, the default; off: nowhere).
 */
export const ClipboardPolicySchema = z.object({ paste: z.enum(['control', 'customer', 'off']).optional(), copy: z.enum(['customer', 'off']).optional() }).strict();
export type ClipboardPolicy = Required<z.infer<typeof ClipboardPolicySchema>>;

export const PolicySchema = z
  .object({
    description: z.string().max(2000).optional(),
    ...section,
    rules: z.array(RuleSchema).max(200).optional(),
    allow: z.array(z.string().min(1).max(500)).optional(),
    deny: z.array(z.string().min(1).max(500)).optional(),
    recording: z
      .object({ enabled: z.boolean(), retentionDays: z.number().int().min(1).max(3650).optional() })
      .strict()
      .optional(),
    session: z
      .object({ idleSeconds: z.number().int().min(5).max(86400).optional(), maxMinutes: z.number().int().min(1).max(1440).optional() })
      .strict()
      .optional(),
    /** Plain words for the consent screen; defaults are derived from what the policy masks. */
    consentText: z.array(z.string().min(1).max(80)).max(20).optional(),
    unsafe: z.object({ allowUnmaskBuiltins: z.boolean() }).strict().optional(),
    /** Forensic mark of the viewer in every staff frame (docs/redaction.md#forensic-watermarks); default corner. */
    watermark: z.enum(['off', 'corner', 'tiled']).optional(),
    /** Uploads by the customer and downloads to the customer (off unless allowed). */
    files: FilesPolicySchema.optional(),
    clipboard: ClipboardPolicySchema.optional(),
  })
  .strict();

export type PolicyFile = z.infer<typeof PolicySchema>;
export type GuardRule = z.infer<typeof GuardRuleSchema>;

/** Validates parsed YAML; returns every problem as "path: message". */
export function validatePolicy(raw: unknown): { ok: true; policy: PolicyFile } | { ok: false; problems: string[] } {
  const r = PolicySchema.safeParse(raw ?? {});
  if (r.success) return { ok: true, policy: r.data };
  return { ok: false, problems: r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
}
