// Cold-start benchmark (issue 2, item 10): bundle every handler exactly as CDK deploys it, then time
// `await import(bundle)` (module evaluation + module-scope init) in fresh Node processes, against a
// floor bundle built the same way in the same run. Results are ratios to that floor: the machine is
// shared and noisy, so absolute milliseconds from different runs do not compare. The target ratio
// pairs each import with the floor's import of the same round (see Row.ratio).
//
//   npx tsx bench/cold-start/run.ts [--runs N] [--warmup N] [--json] [--top N] [--only a,b]
//
// --only runs the floor and the named functions (HANDLER_ENTRIES keys) alone: fewer processes on a
// shared machine while working on a few bundles; the ratio still pairs each import with the floor.
//
// A benchmark, not a test: it exits 0 whether targets are met or not, and prints which are missed.
// It exits 1 only when it cannot measure (a bundle fails to build or to import).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BUNDLING, HANDLER_ENTRIES, initialOutputs } from '../../infra/bundling.js';
import { buildBundle, packageBreakdown, type Bundle, type PackageBytes } from './bundle.js';
import { importOnce, summarize, type Sample, type Summary } from './measure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT_DIR = join(ROOT, '.bench', 'cold-start');
const FLOOR_ENTRY = 'bench/cold-start/floor.ts';

/**
 * --probes: the floor plus one ingredient each, to see what a handler's extra import time is made
 * of. Reported beside the handlers, never judged against the targets.
 */
const PROBES: Record<string, string> = {
  'floor+zod/mini': "import * as z from 'zod/mini';\nexport const S = z.strictObject({ a: z.string(), b: z.optional(z.boolean()) });",
  'floor+zod': "import * as z from 'zod';\nexport const S = z.strictObject({ a: z.string(), b: z.optional(z.boolean()) });",
  'floor+middy': "import middy from '@middy/core';\nexport const stack = middy().handler(async () => ({}));",
  'floor+http-stack': "import { notFoundHandler } from '@root/functions/shared/http.js';\nexport const nf = notFoundHandler();",
};

function writeProbes(dir: string): { name: string; entry: string }[] {
  mkdirSync(dir, { recursive: true });
  const floor = JSON.stringify(join(ROOT, FLOOR_ENTRY));
  return Object.entries(PROBES).map(([name, body]) => {
    const file = join(dir, `${name.replace(/[^\w]+/g, '-')}.ts`);
    const source = body.replace(/'@root\/([^']+)'/g, (_m, path: string) => JSON.stringify(join(ROOT, path)));
    writeFileSync(file, `export { handler } from ${floor};\n${source}\n`);
    return { name, entry: relative(ROOT, file) };
  });
}

/** Issue 2, item 10. KB here is 1024 bytes. */
export const TARGETS = { importRatio: 1.25, minifiedKB: 400 } as const;
/** Above this p90/median spread of the floor, the run is flagged as noisy. */
const NOISY = 1.3;

interface Options {
  runs: number;
  warmup: number;
  json: boolean;
  top: number;
  probes: boolean;
  only: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { runs: 20, warmup: 2, json: false, top: 8, probes: false, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = (): number => {
      const raw = inline ?? argv[++i];
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} takes a whole number, got ${raw}`);
      return n;
    };
    if (flag === '--runs') opts.runs = Math.max(1, value());
    else if (flag === '--warmup') opts.warmup = value();
    else if (flag === '--top') opts.top = value();
    else if (flag === '--json') opts.json = true;
    else if (flag === '--probes') opts.probes = true;
    else if (flag === '--only') opts.only = (inline ?? argv[++i] ?? '').split(',').filter(Boolean);
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: tsx bench/cold-start/run.ts [--runs N (20)] [--warmup N (2)] [--top N (8)] [--json] [--probes] [--only a,b]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  return opts;
}

interface Row {
  name: string;
  entry: string;
  /** Bytes a cold start loads (index.mjs and its static chunks). */
  bytes: number;
  /** Bytes of all chunks, those loaded on first use included. */
  totalBytes: number;
  gzipBytes: number;
  import: Summary;
  /**
   * The target's ratio: the median of per-round ratios, each import time over the floor's import
   * time in the same round. Rounds are seconds apart, so a machine that slows down for a while
   * slows both sides of a pair alike; this is far steadier between runs than `medianRatio`.
   */
  ratio: number;
  /** Median import time over the floor's median import time, same run. */
  medianRatio: number;
  /** CPU time of the import (user + system), and its median over the floor's. */
  cpu: Summary;
  cpuRatio: number;
  heapMB: number;
  packages: PackageBytes[];
  /** Bytes this bundle holds beyond the floor, per package (100 bytes or more). */
  overFloor: PackageBytes[];
  misses: string[];
}

const kb = (bytes: number): number => bytes / 1024;
const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);
const log = (line: string): void => {
  process.stderr.write(line + '\n');
};

function table(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) =>
    '| ' + cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (rightAlign[i] ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [fmt(header), rule, ...rows.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });

  const skipped: { name: string; entry: string; reason: string }[] = [];
  const targets: { name: string; entry: string }[] = [{ name: 'floor', entry: FLOOR_ENTRY }];
  const unknown = opts.only.filter((n) => !(n in HANDLER_ENTRIES));
  if (unknown.length > 0) throw new Error(`--only: no function named ${unknown.join(', ')} in HANDLER_ENTRIES`);
  for (const [name, entry] of Object.entries(HANDLER_ENTRIES)) {
    if (opts.only.length > 0 && !opts.only.includes(name)) continue;
    if (existsSync(join(ROOT, entry))) targets.push({ name, entry });
    else skipped.push({ name, entry, reason: `${entry} does not exist yet` });
  }

  log(`bundling ${targets.length} entries into ${relative(ROOT, OUT_DIR)}/ with infra/bundling.ts BUNDLING …`);
  const bundles: Bundle[] = [];
  for (const t of targets) bundles.push(await buildBundle(ROOT, t.name, t.entry, join(OUT_DIR, t.name)));
  for (const s of skipped) log(`skipped ${s.name}: ${s.reason}`);
  const probeNames = new Set<string>();
  if (opts.probes) {
    for (const p of writeProbes(join(OUT_DIR, 'probe-src'))) {
      probeNames.add(p.name);
      bundles.push(await buildBundle(ROOT, p.name, p.entry, join(OUT_DIR, 'probe', p.name.replace(/[^\w]+/g, '-'))));
    }
  }

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TABLE_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCHDUMMY',
    AWS_SECRET_ACCESS_KEY: 'bench-dummy-secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    LOG_LEVEL: 'silent',
  };

  // Round-robin: each round runs every bundle once, starting one further along each time, so the
  // machine's noise lands on the floor and the handlers alike. Warm-up rounds are discarded.
  const samples = new Map<string, Sample[]>(bundles.map((b) => [b.name, []]));
  const total = opts.warmup + opts.runs;
  for (let round = 0; round < total; round++) {
    const measured = round >= opts.warmup;
    log(`${measured ? 'round' : 'warm-up'} ${measured ? round - opts.warmup + 1 : round + 1}/${measured ? opts.runs : opts.warmup}`);
    for (let k = 0; k < bundles.length; k++) {
      const b = bundles[(round + k) % bundles.length]!;
      const s = await importOnce(b.file, env);
      if (measured) samples.get(b.name)!.push(s);
    }
  }

  const floorBundle = bundles[0]!;
  const floorSamples = samples.get('floor')!;
  const floor = summarize(floorSamples.map((s) => s.importMs));
  const floorCpu = summarize(floorSamples.map((s) => s.cpuMs));
  const floorPackages = packageBreakdown(floorBundle.metafile);
  const floorByPkg = new Map(floorPackages.map((p) => [p.name, p.bytes]));

  const rows: Row[] = bundles.map((b) => {
    const own = samples.get(b.name)!;
    const times = own.map((s) => s.importMs);
    const summary = summarize(times);
    // What a cold start loads: index.mjs and the chunks it imports statically.
    const bytes = b.initialBytes;
    const gzipBytes = gzipSync(Buffer.concat(initialOutputs(b.metafile).map((o) => readFileSync(resolve(ROOT, o)))), { level: 9 }).length;
    const packages = packageBreakdown(b.metafile);
    const overFloor = packages
      .map((p) => ({ name: p.name, bytes: p.bytes - (floorByPkg.get(p.name) ?? 0) }))
      .filter((p) => p.bytes >= 100)
      .sort((a, z) => z.bytes - a.bytes);
    const medianRatio = summary.median / floor.median;
    const ratio = summarize(own.map((s, i) => s.importMs / floorSamples[i]!.importMs)).median;
    const misses: string[] = [];
    if (b.name !== 'floor' && !probeNames.has(b.name)) {
      if (ratio > TARGETS.importRatio) {
        misses.push(
          `import ${f2(ratio)}× the floor (target ≤ ${TARGETS.importRatio}×): over by ${f2(ratio - TARGETS.importRatio)}×, ` +
            `about ${f1((ratio - TARGETS.importRatio) * floor.median)} ms per cold start at this run's floor of ${f1(floor.median)} ms`,
        );
      }
      if (kb(bytes) > TARGETS.minifiedKB) {
        misses.push(
          `size ${f1(kb(bytes))} KB (target ≤ ${TARGETS.minifiedKB} KB): over by ${f1(kb(bytes) - TARGETS.minifiedKB)} KB ` +
            `(${f2(kb(bytes) / TARGETS.minifiedKB)}× the limit)`,
        );
      }
    }
    const heapMB = summarize(own.map((s) => s.heapUsedMB)).median;
    const cpu = summarize(own.map((s) => s.cpuMs));
    const cpuRatio = cpu.median / floorCpu.median;
    return { name: b.name, entry: b.entry, bytes, totalBytes: b.totalBytes, gzipBytes, import: summary, ratio, medianRatio, cpu, cpuRatio, heapMB, packages, overFloor, misses };
  });

  const machine = {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const handlers = rows.slice(1).filter((r) => !probeNames.has(r.name));
  const probes = rows.filter((r) => probeNames.has(r.name));
  const result = {
    date: new Date().toISOString(),
    machine,
    method: {
      bundling: { ...BUNDLING, bundle: true, outdir: '<name>/ (index.mjs and its chunks)' },
      runs: opts.runs,
      warmup: opts.warmup,
      timed: 'performance.now() around `await import(bundle)` inside a fresh `node` child; spawn and Node boot excluded',
      order: 'round-robin over floor and handlers, start rotated each round',
      ratio: 'median over rounds of (handler import ms / floor import ms of the same round); medianRatio: median / floor median',
    },
    targets: TARGETS,
    floor: rows[0]!,
    handlers,
    probes,
    skipped,
    noise: { floorP90OverMedian: floor.p90 / floor.median, floorCpuP90OverMedian: floorCpu.p90 / floorCpu.median },
    missed: handlers.flatMap((r) => r.misses.map((m) => `${r.name}: ${m}`)),
  };

  const json = JSON.stringify(result, null, 2) + '\n';
  writeFileSync(join(OUT_DIR, 'results.json'), json);
  if (opts.json) {
    process.stdout.write(json);
    return;
  }

  const out: string[] = [];
  out.push('');
  out.push(`Cold start: ${opts.runs} fresh \`node\` processes per bundle (+${opts.warmup} warm-up rounds discarded), round-robin.`);
  out.push(`Machine: ${machine.nproc} cores (${machine.cpu}), Node ${machine.node}, ${machine.platform}. Import time measured inside each child (spawn excluded).`);
  out.push('');
  out.push(
    table(
      ['bundle', 'minified KB', 'all chunks KB', 'gzip KB', 'import median ms', 'p90 ms', '× floor', '× floor (medians)', 'CPU median ms', 'CPU × floor', 'heap MB', 'targets'],
      rows.map((r) => [
        r.name,
        f1(kb(r.bytes)),
        f1(kb(r.totalBytes)),
        f1(kb(r.gzipBytes)),
        f1(r.import.median),
        f1(r.import.p90),
        f2(r.ratio),
        f2(r.medianRatio),
        f1(r.cpu.median),
        f2(r.cpuRatio),
        f1(r.heapMB),
        r.name === 'floor' ? '(baseline)' : probeNames.has(r.name) ? '(probe)' : r.misses.length === 0 ? 'met' : `MISSED (${r.misses.length})`,
      ]),
      [false, true, true, true, true, true, true, true, true, true, true, false],
    ),
  );
  out.push('');
  out.push(`Targets: import ≤ ${TARGETS.importRatio}× the floor (× floor column), minified ≤ ${TARGETS.minifiedKB} KB (1 KB = 1024 bytes).`);
  out.push('× floor: median of per-round ratios (each import over the floor import of the same round); the target uses it.');
  out.push('× floor (medians): median import over the floor median. CPU: user+system time of the import (median), over the floor\'s.');
  if (result.noise.floorP90OverMedian > NOISY) {
    out.push(
      `Note: the machine was busy (the floor's p90 is ${f2(result.noise.floorP90OverMedian)}× its median); the medians ratio can swing between runs; the paired ratio is steadier. Rerun with more --runs to be sure.`,
    );
  }
  if (result.missed.length === 0) out.push('All targets met.');
  else for (const m of result.missed) out.push(`  MISSED ${m}`);
  for (const s of skipped) out.push(`  skipped ${s.name}: ${s.reason}`);
  out.push('');
  out.push(`What the bundles hold (bytes in the minified output, by package; top ${opts.top}):`);
  for (const r of rows) {
    const top = r.packages.slice(0, opts.top).map((p) => `${p.name} ${f1(kb(p.bytes))}`);
    out.push(`  ${r.name} (${f1(kb(r.bytes))} KB): ${top.join(', ')}`);
    if (r.name !== 'floor') {
      const extra = r.overFloor.slice(0, opts.top).map((p) => `${p.name} +${f1(kb(p.bytes))}`);
      out.push(`    beyond the floor: ${extra.join(', ') || 'nothing'}`);
    }
  }
  out.push('');
  out.push(`Bundles and metafiles: ${relative(ROOT, OUT_DIR)}/<name>/ (gitignored); full results: ${relative(ROOT, join(OUT_DIR, 'results.json'))}`);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`cold-start benchmark could not measure: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
