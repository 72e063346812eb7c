// The statement parser inside a deployed bundle: bundleFunction (infra/bundling.ts), as CDK runs it,
// with and without the files BUNDLED_FILES names copied beside index.mjs and its chunks, then
// the bundle run by a plain `node` in its own folder, as Lambda runs it. Without the copied
// WebAssembly the PostgreSQL parser cannot load, and Advance could not read an approval rule's
// `statement.types`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLED_FILES, bundleFunction } from '../../infra/bundling.js';
import { PROJECT_ROOT } from '../../infra/lib/defaults.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-bundled-parser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Bundles an entry whose handler prints the statement types of two scripts, one per engine. As on
 * Lambda, the handler runs after index.mjs is evaluated (a lazy chunk awaited at module scope would
 * wait for index.mjs, into which the static chunks are folded).
 */
function bundle(outDir: string, files: readonly string[]): string {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { statementTypes } from ${JSON.stringify(join(PROJECT_ROOT, 'domain/review/parse.ts'))};\n` +
      `export const handler = async () => console.log(JSON.stringify([await statementTypes('POSTGRES', 'DROP TABLE a; UPDATE b SET c = 1'), await statementTypes('MYSQL', 'RENAME TABLE a TO b')]));\n`,
  );
  bundleFunction(PROJECT_ROOT, entry, outDir, files);
  return join(outDir, 'index.mjs');
}

/** Runs a bundle's handler in a plain `node`, in the bundle's folder, as Lambda does. */
const invoke = (bundled: string, cwd: string) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', `await (await import(${JSON.stringify(bundled)})).handler();`], { cwd, encoding: 'utf8' });

describe('a bundle that reads statement types', () => {
  it('parses PostgreSQL once the files BUNDLED_FILES names are copied beside it, and fails without them', () => {
    // Prepare
    const bare = bundle(join(dir, 'bare'), []);
    const withFiles = bundle(join(dir, 'with-files'), BUNDLED_FILES.advance!);

    // Act
    const ok = invoke(withFiles, join(dir, 'with-files'));
    const broken = invoke(bare, join(dir, 'bare'));

    // Assess
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual([['DROP_TABLE', 'UPDATE'], ['RENAME_TABLE']]);
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toMatch(/libpg-query\.wasm/);
  }, 120_000);
});
