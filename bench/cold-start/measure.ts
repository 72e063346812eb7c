// One cold import in a fresh Node process, timed from inside the child so that spawning the
// process and booting Node are not counted: only `await import(bundle)`, i.e. loading, parsing and
// evaluating the bundle with its module-scope init (clients, schemas, middy stack). No handler runs.
import { execFile } from 'node:child_process';

export interface Sample {
  /** performance.now() after the import minus before it, in the child. */
  importMs: number;
  /** CPU time (user + system, all threads) the process spent in the import. */
  cpuMs: number;
  /** Node's own boot before the import (performance.now() at the start of the child script). */
  bootMs: number;
  /** V8 heap in use after the import. */
  heapUsedMB: number;
}

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

// The child's whole program. argv[1] is the bundle path (`node -e CODE PATH`).
const CHILD = `
const t0 = performance.now();
const { pathToFileURL } = await import('node:url');
const url = pathToFileURL(process.argv[1]).href;
const cpu0 = process.cpuUsage();
const start = performance.now();
const mod = await import(url);
const importMs = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
if (typeof mod.handler !== 'function') throw new Error('the bundle exports no handler function');
process.stdout.write(JSON.stringify({ importMs, cpuMs: (cpu.user + cpu.system) / 1000, bootMs: t0, heapUsedMB: process.memoryUsage().heapUsed / 1048576 }) + '\\n');
`;

export function importOnce(bundle: string, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, bundle], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`importing ${bundle} failed: ${stderr.trim() || err.message}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Sample);
      } catch {
        reject(new Error(`importing ${bundle} printed no timing: ${stdout}${stderr}`));
      }
    });
  });
}

/** Median (mean of the middle two for an even count), nearest-rank p90, min, max. */
export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { n, median: NaN, p90: NaN, min: NaN, max: NaN };
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { n, median, p90: s[Math.ceil(0.9 * n) - 1]!, min: s[0]!, max: s[n - 1]! };
}
