// The folder rules of docs/architecture.md, enforced by `npm run lint` (and so by `npm test`).
// Contexts of domain/, lowest first: a context may import itself and those before it, never one after.
const LAYERS = ['common', 'access', 'inventory', 'schema', 'review', 'backup', 'approval', 'sheets', 'pipeline', 'notify', 'audit', 'gitops', 'api'];

const layering = LAYERS.map((layer, i) => ({
  name: `domain-layer-${layer}`,
  comment: `domain/${layer} may import only ${LAYERS.slice(0, i + 1).join(', ')} (docs/architecture.md)`,
  severity: 'error',
  from: { path: `^domain/${layer}/` },
  to: { path: `^domain/(?!(${LAYERS.slice(0, i + 1).join('|')})/)` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle that survives compilation. Type-only cycles inside one folder are erased and allowed.',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-circular-between-folders',
      comment: 'No cycle at all, types included, that leaves its folder.',
      severity: 'error',
      from: { path: '^(domain|functions|infra)/([^/]+)/' },
      to: { circular: true, via: { pathNot: '^$1/$2/' } },
    },
    {
      name: 'domain-known-folders',
      comment: 'Every domain module lives in a context folder of the layer list.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: `^domain/(?!(${LAYERS.join('|')})/)` },
    },
    ...layering,
    {
      name: 'domain-pure',
      comment: 'domain/ knows no AWS, no middy, no Lambda types, no adapters, functions or infra.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: ['^node_modules/(@aws-sdk|@middy|aws-lambda|@types/aws-lambda|aws-cdk-lib|constructs|pg|mysql2)/', '^(functions|infra|test|bench|cli)/'] },
    },
    {
      name: 'handlers-no-sdk',
      comment: 'HTTP and workflow handlers reach AWS only through adapters (functions/shared wires them).',
      severity: 'error',
      from: { path: '^functions/(http|workflow)/' },
      to: { path: ['^node_modules/@aws-sdk/', '^functions/adapters/', '^infra/'] },
    },
    {
      name: 'adapters-no-infra',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^infra/' },
    },
    {
      name: 'cdk-no-runtime',
      comment: 'CDK constructs reference handlers by path and never import them (infra/local may); the pure route table and pipeline contract in domain/ are shared.',
      severity: 'error',
      from: { path: '^infra/(lib|bin)/' },
      to: { path: '^functions/' },
    },
    {
      name: 'cli-shared-only',
      comment:
        'The CLI is a client of the HTTP API, run from a clone: it may share only pure rule modules of domain/ that import nothing (the migration file and version rules, so `sluice migrate` and GitOps cannot disagree), never the server (docs/architecture.md).',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: ['^(domain|functions|infra|test|bench)/', '^node_modules/(@aws-sdk|@middy|aws-cdk-lib|constructs|pg|mysql2)/'], pathNot: '^domain/common/migrations\\.ts$' },
    },
    {
      name: 'shared-with-cli-imports-nothing',
      comment: 'A domain module the CLI shares stays pure and self-contained, so the CLI never reaches the server through it.',
      severity: 'error',
      from: { path: '^domain/common/migrations\\.ts$' },
      to: { path: '^(?!node_modules/)' },
    },
    {
      name: 'console-is-a-client',
      comment: 'The web console (web/) is a client of the HTTP API only (DESIGN.md, "Surfaces are clients"): no server code, no Node built-ins.',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: ['^(domain|functions|infra|cli|test|bench)/'] },
    },
    {
      name: 'console-no-node',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|cdk\\.out|\\.sluice|web/dist|test-output|\\.bench)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
