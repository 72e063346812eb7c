// How the web console (web/) is built: one esbuild pass, Preact's JSX, content-hashed assets.
// `npm start` builds it when the build is missing or stale (its sources' hash changed); the CDK
// stack builds it into the asset it uploads. Synchronous, so CDK's local bundling can call it.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

export const CONSOLE_ROOT = resolve(import.meta.dirname, '..', 'web');
export const CONSOLE_DIST = join(CONSOLE_ROOT, 'dist');
const STAMP = '.build-hash';

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** sha256 of everything the build reads from web/ (sources, page template) and the Preact version. */
export function consoleSourceHash(root = CONSOLE_ROOT): string {
  const h = createHash('sha256');
  for (const f of [join(root, 'index.html'), ...files(join(root, 'src'))]) h.update(f.slice(root.length)).update('\0').update(readFileSync(f));
  h.update(readFileSync(resolve(root, '..', 'node_modules', 'preact', 'package.json')));
  return h.digest('hex');
}

/** Builds the console into `outDir` (index.html and assets/), replacing what was there. */
export function buildConsole(outDir = CONSOLE_DIST, root = CONSOLE_ROOT): void {
  rmSync(join(outDir, 'assets'), { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = buildSync({
    entryPoints: [join(root, 'src', 'main.tsx')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => basename(f));
  const js = outputs.find((f) => f.endsWith('.js'));
  const css = outputs.find((f) => f.endsWith('.css'));
  if (!js || !css) throw new Error(`console build: expected one .js and one .css, got ${outputs.join(', ')}`);
  const html = readFileSync(join(root, 'index.html'), 'utf8').replace('%JS%', js).replace('%CSS%', css);
  writeFileSync(join(outDir, 'index.html'), html);
  writeFileSync(join(outDir, STAMP), consoleSourceHash(root));
}

/**
 * Builds the console unless `outDir` already holds a build of the current sources. True when it
 * built. Several `npm start`s may do this at once (the test suites do): each builds into a folder
 * of its own and swaps it in whole, so none ever serves a half-written build.
 */
export function ensureConsoleBuilt(outDir = CONSOLE_DIST, root = CONSOLE_ROOT): boolean {
  const stamp = join(outDir, STAMP);
  if (existsSync(stamp) && existsSync(join(outDir, 'index.html')) && readFileSync(stamp, 'utf8') === consoleSourceHash(root)) return false;
  const tmp = `${outDir}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    buildConsole(tmp, root);
    rmSync(outDir, { recursive: true, force: true });
    try {
      renameSync(tmp, outDir);
    } catch (e) {
      // Another build of the same sources got there first: theirs is as good as ours.
      if (!existsSync(join(outDir, 'index.html'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}
