// What the SQL review parsers cost a Lambda bundle: bytes, import time, and the first parse of
// each engine (which loads that engine's grammar). Bundles are built exactly as deployed
// (infra/bundling.ts, via bench/cold-start/bundle.ts), with libpg-query.wasm copied beside
// index.mjs as a deployed function needs it. Each sample is a fresh Node process; rounds
// alternate the bundles so that the shared machine's noise hits them alike. Small and quick: not
// one of the repository's heavy benchmarks.
//
//   npx tsx bench/review-parser/run.ts [--runs N]
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { POSTGRES_PARSER_WASM } from '../../domain/review/parse.js';
import { buildBundle, packageBreakdown } from '../cold-start/bundle.js';
import { summarize } from '../cold-start/measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, '.bench', 'review-parser');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;

const review = JSON.stringify(join(ROOT, 'domain/review/index.ts'));
const floor = JSON.stringify(join(ROOT, 'bench/cold-start/floor.ts'));
const ENTRIES: Record<string, string> = {
  trivial: 'export const handler = async () => 1;\nexport const firstUse = async () => 0;',
  'trivial+review': `import { review } from ${review};\nexport const handler = async () => 1;\nexport const firstUse = async (engine) => (await review({ engine, statement: 'DELETE FROM t', rules: [{ type: 'statement.where.require', level: 'ERROR' }] })).length;`,
  floor: `export { handler } from ${floor};\nexport const firstUse = async () => 0;`,
  'floor+review': `import { review } from ${review};\nexport { handler } from ${floor};\nexport const firstUse = async (engine) => (await review({ engine, statement: 'DELETE FROM t', rules: [{ type: 'statement.where.require', level: 'ERROR' }] })).length;`,
};

// The child: time the import, then (argv[2]) the first review on an engine, in the same process.
const CHILD = `
const { pathToFileURL } = await import('node:url');
const t0 = performance.now();
const mod = await import(pathToFileURL(process.argv[1]).href);
const importMs = performance.now() - t0;
let firstUseMs = 0;
if (process.argv[2]) { const t1 = performance.now(); const n = await mod.firstUse(process.argv[2]); firstUseMs = performance.now() - t1; if (n !== 1) throw new Error('review gave ' + n); }
process.stdout.write(JSON.stringify({ importMs, firstUseMs, rssMB: process.memoryUsage().rss / 1048576 }) + '\\n');
`;
const sample = (file: string, engine?: string): Promise<{ importMs: number; firstUseMs: number; rssMB: number }> =>
  new Promise((ok, fail) =>
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, file, ...(engine ? [engine] : [])], { timeout: 60_000, cwd: dirname(file) }, (err, out, errOut) =>
      err ? fail(new Error(errOut || err.message)) : ok(JSON.parse(out.trim().split('\n').pop()!)),
    ),
  );

rmSync(OUT, { recursive: true, force: true });
const wasm = createRequire(import.meta.url).resolve(POSTGRES_PARSER_WASM);
const bundles: Record<string, string> = {};
// The same floor+review with the parser packages left out of the bundle and installed beside it
// instead (CDK NodejsFunction `bundling.nodeModules`), emulated with a link to node_modules.
const EXTERNAL = ['libpg-query', 'node-sql-parser'];
ENTRIES['floor+review, parsers external'] = ENTRIES['floor+review']!;
for (const [name, source] of Object.entries(ENTRIES)) {
  const dir = join(OUT, name.replace(/[^\w+]+/g, '-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.mjs'), source);
  const external = name.endsWith('external');
  const b = await buildBundle(ROOT, name, relative(ROOT, join(dir, 'entry.mjs')), join(dir, 'out'), external ? EXTERNAL : []);
  if (external) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'out', 'node_modules'));
  else if (name.endsWith('+review')) copyFileSync(wasm, join(dir, 'out', 'libpg-query.wasm'));
  bundles[name] = b.file;
  const bytes = statSync(b.file).size;
  const top = packageBreakdown(b.metafile).slice(0, 6).map((p) => `${p.name} ${(p.bytes / 1024).toFixed(1)}`).join(', ');
  process.stdout.write(`${name.padEnd(31)} ${(bytes / 1024).toFixed(1)} KiB minified, ${(gzipSync(readFileSync(b.file)).length / 1024).toFixed(1)} KiB gzip; largest: ${top}\n`);
}
process.stdout.write(`libpg-query.wasm ${(statSync(wasm).size / 1024).toFixed(1)} KiB (${(gzipSync(readFileSync(wasm)).length / 1024).toFixed(1)} KiB gzip), beside index.mjs\n\n`);

// Unbundled, as Node resolves the packages (npm start, tests): a trivial module against each parser.
const PKG_CHILD = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
if (mod.loadModule) await mod.loadModule();
process.stdout.write(JSON.stringify({ ms: performance.now() - t0 }) + '\\n');
`;
const trivialModule = join(OUT, 'trivial.mjs');
writeFileSync(trivialModule, 'export const x = 1;\n');
const pkgSample = (spec: string): Promise<number> =>
  new Promise((ok, fail) =>
    execFile(process.execPath, ['--input-type=module', '-e', PKG_CHILD, spec], { timeout: 60_000, cwd: ROOT }, (err, out, errOut) =>
      err ? fail(new Error(errOut || err.message)) : ok((JSON.parse(out.trim().split('\n').pop()!) as { ms: number }).ms),
    ),
  );
const PACKAGES: Record<string, string> = {
  'package trivial module': new URL(`file://${trivialModule}`).href,
  'package libpg-query (+wasm)': 'libpg-query',
  'package node-sql-parser mysql': 'node-sql-parser/build/mysql.js',
};

const rows: Record<string, number[]> = {};
const push = (k: string, v: number) => (rows[k] ??= []).push(v);
for (let i = 0; i < runs; i++) {
  for (const name of Object.keys(ENTRIES)) push(`import ${name}`, (await sample(bundles[name]!)).importMs);
  for (const engine of ['POSTGRES', 'MYSQL']) {
    const s = await sample(bundles['trivial+review']!, engine);
    push(`first review ${engine}`, s.firstUseMs);
    push(`rss after ${engine} MB`, s.rssMB);
    push(`first review ${engine}, external`, (await sample(bundles['floor+review, parsers external']!, engine)).firstUseMs);
  }
  push('rss trivial+review MB', (await sample(bundles['trivial+review']!)).rssMB);
  for (const [k, spec] of Object.entries(PACKAGES)) push(k, await pkgSample(spec));
}
for (const [k, v] of Object.entries(rows)) {
  const s = summarize(v);
  process.stdout.write(`${k.padEnd(40)} median ${s.median.toFixed(1)}  p90 ${s.p90.toFixed(1)}  min ${s.min.toFixed(1)}  (n=${s.n})\n`);
}
// Per-round ratios: each import against its baseline's import in the same round (as bench/cold-start does).
const PAIRS: [string, string][] = [['trivial+review', 'trivial'], ['floor+review', 'floor'], ['floor+review, parsers external', 'floor']];
for (const [a, b] of PAIRS) {
  const x = rows[`import ${a}`]!;
  const y = rows[`import ${b}`]!;
  const r = summarize(x.map((v, i) => v / y[i]!));
  const d = summarize(x.map((v, i) => v - y[i]!));
  process.stdout.write(`${`${a} / ${b}`.padEnd(40)} ratio median ${r.median.toFixed(2)} (p90 ${r.p90.toFixed(2)}), extra ms median ${d.median.toFixed(1)}\n`);
}
process.stdout.write(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
