// Every function's bundle as CDK deploys it (bundleFunction, infra/bundling.ts): what its cold start
// loads (index.mjs, into which the statically imported chunks are folded) stays under 400 KB and
// holds none of the heavy libraries (SQL drivers, CEL, SQL grammars, rarely used AWS clients):
// those sit in chunks loaded on first use. Each index.mjs is then imported alone by a plain `node`,
// and a lazy chunk (mysql2) is loaded and used, as on Lambda.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_FILES, HANDLER_ENTRIES, bundleFunction, initialOutputs } from '../../infra/bundling.js';
import { PROJECT_ROOT } from '../../infra/lib/defaults.js';
import { SluiceFunction } from '../../infra/lib/function.js';

type Name = keyof typeof HANDLER_ENTRIES;

/** The libraries kept out of cold starts, by the input paths esbuild reports for them. */
const HEAVY = {
  mysql2: /node_modules\/mysql2\//,
  pg: /node_modules\/pg\//,
  cel: /node_modules\/@marcbachmann\/cel-js\//,
  'libpg-query': /node_modules\/libpg-query\//,
  'node-sql-parser': /node_modules\/node-sql-parser\//,
  'pgsql-deparser': /node_modules\/pgsql-deparser\//,
  'secrets-manager client': /node_modules\/@aws-sdk\/client-secrets-manager\//,
  'lambda client': /node_modules\/@aws-sdk\/client-lambda\//,
  // Step Functions: the issues function's orchestrator and the deployed sync runner load it on first use.
  'sfn client': /node_modules\/@aws-sdk\/client-sfn\//,
} as const;
type Heavy = keyof typeof HEAVY;

/** What must still be in the function, in a chunk loaded on first use (so the test sees laziness, not removal). */
const ON_FIRST_USE: Partial<Record<Name, Heavy[]>> = {
  runTask: ['pg', 'mysql2', 'libpg-query', 'node-sql-parser', 'pgsql-deparser', 'secrets-manager client'],
  instances: ['mysql2', 'pg', 'secrets-manager client', 'sfn client'],
  sql: ['mysql2', 'pg', 'secrets-manager client'],
  groups: ['cel'],
  issues: ['cel', 'sfn client'],
  advance: ['cel', 'libpg-query', 'node-sql-parser'],
  approvalGate: ['cel', 'libpg-query'],
  workspace: ['cel'],
  hooks: ['lambda client', 'secrets-manager client'],
  backupCleanup: ['mysql2', 'pg'],
  syncSchedule: ['mysql2', 'pg'],
  syncInstance: ['sfn client'],
};

const LIMIT = 400 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'sluice-bundles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Built {
  outDir: string;
  metafile: Metafile;
  initialBytes: number;
  atInit: Heavy[];
  anywhere: Heavy[];
}

const heavyIn = (metafile: Metafile, outputs: string[]): Heavy[] =>
  (Object.keys(HEAVY) as Heavy[]).filter((h) => outputs.some((o) => Object.keys(metafile.outputs[o]!.inputs).some((i) => HEAVY[h].test(i))));

const built = new Map<Name, Built>();
function build(name: Name): Built {
  if (!built.has(name)) {
    const outDir = join(dir, name);
    const metafile = bundleFunction(PROJECT_ROOT, HANDLER_ENTRIES[name], outDir, BUNDLED_FILES[name]);
    const initial = initialOutputs(metafile);
    built.set(name, {
      outDir,
      metafile,
      initialBytes: initial.reduce((n, o) => n + metafile.outputs[o]!.bytes, 0),
      atInit: heavyIn(metafile, initial),
      anywhere: heavyIn(metafile, Object.keys(metafile.outputs)),
    });
  }
  return built.get(name)!;
}

const NAMES = Object.keys(HANDLER_ENTRIES) as Name[];

describe('each function bundle', () => {
  it.each(NAMES)('%s loads at most 400 KB at a cold start, and none of the heavy libraries', (name) => {
    // Act
    const b = build(name);

    // Assess
    expect(b.atInit).toEqual([]);
    expect(b.initialBytes).toBeLessThanOrEqual(LIMIT);
    // Node's web streams, compiled at import, are loaded on first use (functions/shared/stream-web.ts).
    expect(initialOutputs(b.metafile).flatMap((o) => b.metafile.outputs[o]!.imports.map((i) => i.path))).not.toContain('node:stream/web');
    for (const lazy of ON_FIRST_USE[name] ?? []) expect(b.anywhere, `${name} still holds ${lazy} in a chunk`).toContain(lazy);
  }, 120_000);

  it('imports in a plain node from its index.mjs alone, as Lambda loads it (module-scope init included): a cold start reads one file', () => {
    // Prepare: each bundle's index.mjs copied without its chunks, which only a first use may load
    const alone = (name: Name): string => {
      const only = join(dir, 'alone', name);
      mkdirSync(only, { recursive: true });
      copyFileSync(join(build(name).outDir, 'index.mjs'), join(only, 'index.mjs'));
      return join(only, 'index.mjs');
    };

    // Act: each imported by a fresh process
    const failures = NAMES.map((name) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(alone(name))});`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, TABLE_NAME: 'bundles-test', AWS_REGION: 'us-east-1', LOG_LEVEL: 'silent', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
      });
      return r.status === 0 ? undefined : `${name}: ${r.stderr.slice(0, 500)}`;
    });

    // Assess
    expect(failures.filter(Boolean)).toEqual([]);
  }, 180_000);
});

describe('a chunk loaded on first use', () => {
  it('runs: mysql2, loaded by the first MySQL connection, reaches the network (a refused port) instead of failing to load', () => {
    // Prepare: the connection helper every MySQL path uses, bundled as a function is
    const entry = join(dir, 'mysql-entry.ts');
    writeFileSync(
      entry,
      `import { withMysqlConnection } from ${JSON.stringify(join(PROJECT_ROOT, 'functions/adapters/sql/connect-mysql.ts'))};\n` +
        `const target = { engine: 'MYSQL', host: '127.0.0.1', port: 1, username: 'u' };\n` +
        `export const handler = async () => { try { await withMysqlConnection(target, { connectMs: 2000, deadlineMs: 5000, timeoutMessage: 'timeout' }, async () => 'connected'); } catch (e) { console.log(e.code ?? e.message); } };\n`,
    );
    const outDir = join(dir, 'mysql');
    const metafile = bundleFunction(PROJECT_ROOT, entry, outDir);

    // Act: the handler runs once index.mjs is evaluated, as on Lambda
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await (await import(${JSON.stringify(join(outDir, 'index.mjs'))})).handler();`], { encoding: 'utf8' });

    // Assess
    expect(heavyIn(metafile, initialOutputs(metafile))).toEqual([]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ECONNREFUSED');
  }, 120_000);
});

describe('SluiceFunction', () => {
  it('deploys the bundle as a folder: index.mjs, its chunks and the files BUNDLED_FILES names', () => {
    // Prepare: one function in a stack that bundles (the other infra tests skip bundling)
    const app = new App({ outdir: join(dir, 'cdk.out') });
    const stack = new Stack(app, 'BundleStack');
    const fn = new SluiceFunction(stack, 'Advance', {
      entry: HANDLER_ENTRIES.advance,
      description: 'the test',
      logRetention: RetentionDays.ONE_DAY,
      files: BUNDLED_FILES.advance!,
    });

    // Act
    const template = app.synth().getStackByName('BundleStack').template as { Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }> };
    const key = template.Resources[stack.getLogicalId(fn.fn.node.defaultChild as CfnFunction)]!.Properties.Code!.S3Key!;
    const assetPath = join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`);

    // Assess
    const files = readdirSync(assetPath);
    expect(files).toContain('index.mjs');
    expect(files).toContain('libpg-query.wasm');
    expect(files.filter((f) => f.endsWith('.mjs')).length).toBeGreaterThan(1);
    expect(existsSync(join(assetPath, 'meta.json'))).toBe(false);
  }, 120_000);

  it('deploys each function its own bundle: two functions in one stack get two assets, each with its own handler', async () => {
    // Prepare: two functions of one app, bundled as `cdk synth` does
    const app = new App({ outdir: join(dir, 'cdk.out-two') });
    const stack = new Stack(app, 'TwoStack');
    const fns = (['meta', 'backupCleanup'] as const).map(
      (name) => new SluiceFunction(stack, name, { entry: HANDLER_ENTRIES[name], description: name, logRetention: RetentionDays.ONE_DAY, files: BUNDLED_FILES[name] ?? [] }),
    );

    // Act
    const template = app.synth().getStackByName('TwoStack').template as { Resources: Record<string, { Properties: { Code?: { S3Key?: string } } }> };
    const keys = fns.map((fn) => template.Resources[stack.getLogicalId(fn.fn.node.defaultChild as CfnFunction)]!.Properties.Code!.S3Key!);
    // The handler's own exports (`$n_x` are the folded chunks' bindings, re-exported for lazy chunks)
    const exported = await Promise.all(
      keys.map(async (key) => Object.keys(await import(join(app.outdir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'))).filter((k) => !k.startsWith('$')).sort()),
    );

    // Assess: meta exports its notFound handler too; backupCleanup its handler and the cleanup it runs
    expect(new Set(keys).size).toBe(2);
    expect(exported).toEqual([['handler', 'notFound'], ['handler', 'runBackupCleanup']]);
  }, 120_000);
});
