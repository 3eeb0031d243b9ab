// @ts-check
// ESLint flat config: typescript-eslint's type-aware rules over lib/, handlers/, test/ and bench/.
// `npm run lint` runs this, then prettier's check (see .prettierrc.json).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'coverage/', 'docs/'] },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The four type-aware rules issue 8 asks for, as errors whatever the preset says.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // tap's t.test() returns a promise that tap itself awaits: a bare t.test(...) is how tap tests are written.
        { allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A `default:` branch is this codebase's deliberate catch-all (e.g. `switch (typeof v)`); a switch without one must list every case.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],

      // Indexed reads are written `a[i]!` / `a[i] as T` on purpose, as if noUncheckedIndexedAccess were on (hot paths and tests alike).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // A leading underscore marks a deliberately unused binding, as tsc's noUnusedParameters already accepts.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // The HTTP parser and the XML codec match control characters (\x00-\x1f) on purpose.
      'no-control-regex': 'off',
      // A rejection forwards an AbortSignal's reason or a caught error as is, as Node's own APIs do (only-throw-error allows the same).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tap callbacks are written `async (t) => ...` throughout, whether or not the body awaits.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // This file and any other plain JS: no type information (they are outside tsconfig.json).
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
