// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.data/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/core/config.ts only.' }],
    },
  },
  {
    files: ['src/core/config.ts', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Mocha's and dependency-cruiser's configurations are CommonJS.
    files: ['.mocharc.cjs', '.dependency-cruiser.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The dashboard's script runs in the browser, served as it is (no build step).
    files: ['src/http/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'fetch', 'sessionStorage', 'URL', 'setInterval'].map((name) => [name, 'readonly']),
      ),
    },
  },
);
