// ESLint (flat config): typescript-eslint's recommended rules over the whole repository. Import
// boundaries are dependency-cruiser's (.dependency-cruiser.cjs), formatting is Prettier's
// (.prettierrc.json); the tools come from tools/lint (npm run lint installs them).
import { globals, js, tseslint } from './tools/lint/index.mjs';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', 'client/dist/', 'sdk/dist/', 'bench/results/', '.tmp/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks what is unused on purpose (an Express error handler's `next`, a
      // destructured field left out); an unused `catch (e)` binding costs nothing.
      // A variable assigned once, after closures that read it were made (a page event can arrive
      // before the object it reports to exists), cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' }],
    },
  },
  // The web client and the scripts that run inside the session's page see a browser, not Node.
  { files: ['client/src/**', 'server/browser/redaction/*.js', 'server/demo/site/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  // The in-page scripts are each one function expression whose source text is shipped into pages and called there.
  { files: ['server/browser/redaction/inpage.js', 'server/browser/redaction/clipboard.js'], rules: { '@typescript-eslint/no-unused-expressions': 'off' } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Tests read untyped JSON replies and assert with chai's property assertions (`expect(x).to.be.true`).
  { files: ['test/**', 'harness/**'], rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-unused-expressions': 'off' } },
);
