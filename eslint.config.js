// One lint configuration for every workspace (each runs `eslint src test` from its folder) and
// for the plain JavaScript around them: root scripts, infra, benches (Node) and the dashboard
// (a browser script). `npm run lint` lints both.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const unusedVars = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'var/**', 'bench/results/**', '**/*.tmp.mjs'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [...tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': unusedVars,
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: { 'no-unused-vars': unusedVars },
  },
  {
    files: ['services/api/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: globals.browser },
  },
);
