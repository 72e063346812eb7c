// Builds one entry with the deployed bundling options (infra/bundling.ts) and reads its metafile.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { BUNDLING } from '../../infra/bundling.js';

export interface Bundle {
  name: string;
  entry: string;
  /** Absolute path of the bundled index.mjs. */
  file: string;
  metafile: Metafile;
}

export interface PackageBytes {
  name: string;
  bytes: number;
}

/**
 * BUNDLING as esbuild's JS API spells it. CDK's NodejsFunction passes the same values on the
 * esbuild command line (`--bundle`, `--banner:js=`, `--main-fields=`, …) and writes `index.mjs`.
 */
export const esbuildOptions = (): BuildOptions => ({
  bundle: true,
  format: BUNDLING.format,
  platform: BUNDLING.platform,
  target: BUNDLING.target,
  minify: BUNDLING.minify,
  mainFields: [...BUNDLING.mainFields],
  banner: { js: BUNDLING.banner },
  external: [...BUNDLING.external],
  sourcemap: BUNDLING.sourcemap,
  legalComments: BUNDLING.legalComments,
});

export async function buildBundle(root: string, name: string, entry: string, outDir: string, external: string[] = []): Promise<Bundle> {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'index.mjs');
  const result = await build({
    ...esbuildOptions(),
    ...(external.length ? { external: [...BUNDLING.external, ...external] } : {}),
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: file,
    metafile: true,
    write: true,
    logLevel: 'silent',
  });
  for (const w of result.warnings) process.stderr.write(`esbuild warning (${name}): ${w.text}\n`);
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(result.metafile));
  return { name, entry, file, metafile: result.metafile };
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

/** Bytes each package contributes to the minified output, largest first. */
export function packageBreakdown(metafile: Metafile): PackageBytes[] {
  // One entry, no source map: the metafile has exactly one output.
  const inputs = Object.values(metafile.outputs)[0]?.inputs ?? {};
  const byPkg = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    byPkg.set(owner(path), (byPkg.get(owner(path)) ?? 0) + bytesInOutput);
  }
  return [...byPkg.entries()].map(([name, bytes]) => ({ name, bytes })).sort((a, z) => z.bytes - a.bytes);
}
