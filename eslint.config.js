import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.sluice/**', '.bench/**', 'coverage/**', 'web/dist*/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': 'off',
    },
  },
  {
    // The domain stays free of AWS, middy and the process environment (DESIGN.md, folder rules).
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', '@middy/*', 'aws-lambda', 'aws-cdk-lib', 'aws-cdk-lib/*', '../functions/*', '../infra/*', '../../functions/*', '../../infra/*'] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'domain/ never reads process.env' }],
    },
  },
  {
    // The CLI is a client of the HTTP API like any other (DESIGN.md, "Surfaces are clients"). One
    // exception: the pure migration file and version rules, which must be the server's own so that
    // `sluice migrate` and GitOps agree (docs/architecture.md, "cli/"; dependency-cruiser checks it too).
    files: ['cli/**/*.ts', 'cli/**/*.js'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/domain/*.*', '**/domain/*/*', '!**/domain/common/migrations.js', '**/domain/*/*/**', '**/functions/**', '**/infra/**'] }] },
  },
  {
    // The web console too: it runs in the browser and speaks to the server only over HTTP.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/domain/**', '**/functions/**', '**/infra/**', '**/cli/**', 'node:*'] }] },
  },
  {
    files: ['functions/http/**/*.ts', 'functions/workflow/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*'] }] },
  },
  {
    files: ['infra/lib/**/*.ts', 'infra/bin/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../../functions/*', '../../functions/**'] }] },
  },
);
