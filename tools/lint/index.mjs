// The lint tools, re-exported from here so that eslint.config.js at the repository root resolves
// them from this folder's node_modules (see README.md: why they are installed apart).
export { default as js } from '@eslint/js';
export { default as tseslint } from 'typescript-eslint';
export { default as globals } from 'globals';
