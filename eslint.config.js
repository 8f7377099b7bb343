// Lint rules for the whole tree (npm run lint). Formatting is Prettier's (.prettierrc.json), so
// eslint-config-prettier turns off the rules it would fight with; what is left finds mistakes and long or tangled
// functions. Rules are syntactic (no type information), so a lint of the tree takes seconds, not minutes.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/** STYLE.md: functions stay under ~80 lines; past these a function is worth splitting (warnings, not errors). */
const size = {
  complexity: ['warn', 20],
  'max-depth': ['warn', 4],
  'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
  // Prettier wraps code at its printWidth; comments and long strings it cannot wrap are flagged here.
  'max-len': ['warn', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true }],
};

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'bench-results/', 'test-results/', '.sprout-test/', 'resources/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  prettier,
  ...svelte.configs.prettier,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      ...size,
      // `_name` marks a value left unused on purpose (a destructured field dropped, a callback's first argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
    // State classes replace their reactive values ($state.raw) rather than mutate them; the plain Sets and Maps
    // left are private bookkeeping or a function's locals, which must not trigger updates.
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },
  // The Electron shell and preload are bundled to CommonJS, where require is the way to reach Electron.
  { files: ['main/electron/index.ts', 'preload/index.ts'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // Tests read the CLI's JSON loosely and let expect() check the values.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
