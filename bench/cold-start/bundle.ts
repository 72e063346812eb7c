// Builds one entry with the deployed bundling options (infra/bundling.ts) and reads its metafile.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { bundleFunction, initialOutputs } from '../../infra/bundling.js';

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
 * Builds one entry as CDK does (bundleFunction, infra/bundling.ts) into `outDir`: index.mjs and the
 * chunks loaded on first use, and meta.json (the metafile).
 */
export async function buildBundle(root: string, name: string, entry: string, outDir: string, external: string[] = []): Promise<Bundle> {
  const metafile = bundleFunction(root, entry, outDir, [], external);
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(metafile));
  const size = (outputs: string[]) => outputs.reduce((n, o) => n + metafile.outputs[o]!.bytes, 0);
  return {
    name,
    entry,
    file: join(outDir, 'index.mjs'),
    metafile,
    initialBytes: size(initialOutputs(metafile)),
    totalBytes: size(Object.keys(metafile.outputs)),
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
