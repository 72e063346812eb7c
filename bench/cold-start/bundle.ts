// Builds one entry with the deployed bundling options (infra/bundling.ts) and reads its metafile.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, initialOutputs } from '../../infra/bundling.js';

export interface Bundle {
  name: string;
  entry: string;
  /** Absolute path of the bundled index.mjs. */
  file: string;
  metafile: Metafile;
  /** Bytes of index.mjs and the chunks it imports statically: what a cold start loads. */
  initialBytes: number;
  /** Bytes of every output, the chunks loaded on first use included. */
  totalBytes: number;
}

export interface PackageBytes {
  name: string;
  bytes: number;
}

/**
 * Builds one entry with the deployed options (infra/bundling.ts, as CDK runs them) into `outDir`:
 * index.mjs and its chunks, and meta.json (esbuild's metafile).
 */
export async function buildBundle(root: string, name: string, entry: string, outDir: string, external: string[] = []): Promise<Bundle> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const options = esbuildOptions(root, entry, outDir);
  const result = await build({ ...options, external: [...(options.external ?? []), ...external] });
  for (const w of result.warnings) process.stderr.write(`esbuild warning (${name}): ${w.text}\n`);
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  const size = (outputs: string[]) => outputs.reduce((n, o) => n + result.metafile.outputs[o]!.bytes, 0);
  return {
    name,
    entry,
    file: join(outDir, 'index.mjs'),
    metafile: result.metafile,
    initialBytes: size(initialOutputs(result.metafile)),
    totalBytes: size(Object.keys(result.metafile.outputs)),
  };
}

/**
 * Who an input belongs to: the package under the last node_modules/ in its path (zod split by
 * its v4 sub-packages, since `zod/mini` and full `zod` differ a lot), otherwise the repo folder.
 */
export function owner(input: string): string {
  const parts = input.split('/');
  const nm = parts.lastIndexOf('node_modules');
  if (nm < 0) return parts.length > 1 ? `(app) ${parts[0]}/` : `(app) ${input}`;
  const rest = parts.slice(nm + 1);
  const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  if (pkg === 'zod') {
    const sub = rest[1] === 'v4' ? `v4/${rest[2]}` : rest[1];
    return `zod (${sub})`;
  }
  return pkg;
}

/** Bytes each package contributes to what a cold start loads (initialOutputs), largest first. */
export function packageBreakdown(metafile: Metafile): PackageBytes[] {
  const byPkg = new Map<string, number>();
  for (const output of initialOutputs(metafile)) {
    for (const [path, { bytesInOutput }] of Object.entries(metafile.outputs[output]!.inputs)) {
      byPkg.set(owner(path), (byPkg.get(owner(path)) ?? 0) + bytesInOutput);
    }
  }
  return [...byPkg.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, z) => z.bytes - a.bytes);
}
