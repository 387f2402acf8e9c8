/**
 * Masks that are always on, whatever a policy says: passwords, payment card fields, bank and
 * social security numbers, and whatever the site itself marked. Written as attribute
 * selectors, case-insensitive, on form fields, so that they find fields known only by name/id.
 */
const FIELD = ':is(input, textarea, select)';
const anyAttr = (needle: string) => ['name', 'id', 'autocomplete'].map((a) => `${FIELD}[${a}*="${needle}" i]`);

export const BUILTIN_MASKS: readonly string[] = [
  'input[type="password" i]',
  '[autocomplete^="cc-" i]',
  '[autocomplete*=" cc-" i]',
  ...[
    'card',
    'ccnum',
    'cc-num',
    'cc_num',
    'ccno',
    'creditcard',
    'cvv',
    'cvc',
    'csc',
    'cid',
    'securitycode',
    'security-code',
    'security_code',
    'expir',
    'cc-exp',
    'ccexp',
    'iban',
    'ssn',
    'social-security',
    'socialsecurity',
    'social_security',
    'taxid',
    'tax-id',
  ].flatMap(anyAttr),
  `${FIELD}[name="exp" i]`,
  `${FIELD}[id="exp" i]`,
  '[data-vitrine-mask]',
  // Documents that cannot run the policy script are covered whole from their first paint: a
  // sandboxed frame without scripts, and plug-in style embeddings whose content no script sees.
  ':is(iframe, frame)[sandbox]:not([sandbox~="allow-scripts" i])',
  'embed',
  'object:not([type^="image/" i])',
];

export const BUILTIN_HIDES: readonly string[] = ['[data-vitrine-hide]'];

/** Words for the consent screen naming what the built-ins always mask. */
export const BUILTIN_CONSENT_TEXT = ['passwords', 'payment card numbers, expiry dates and security codes', 'bank account numbers (IBAN)', 'social security numbers'];
