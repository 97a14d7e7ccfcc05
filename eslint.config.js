// ESLint flat config: typescript-eslint's type-checked rules on every package's src/ and test/.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const tsFiles = ['*/src/**/*.ts', '*/test/**/*.ts'];

export default defineConfig(
  globalIgnores(['**/dist/**', '.tools/**', '**/node_modules/**', '.tap/**', 'shared/src/gen/**']),
  {
    files: ['scripts/**/*.mjs', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
  {
    files: tsFiles,
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // tap's t.test/t.skip/t.todo/t.only return a promise that tap itself awaits; top-level
    // `t.test(...)` without `await`/`void` is the normal way to write a tap test.
    files: ['*/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: '@tapjs/test', name: ['test', 'skip', 'todo', 'only'] },
          ],
        },
      ],
    },
  },
);
