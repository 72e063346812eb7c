// `npm start` builds the web console only when its build is missing or older than its sources.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSOLE_ROOT, ensureConsoleBuilt } from '../../infra/console-build.js';

/** The console's script, gzipped, as a browser downloads it (about 25 KiB today). */
const CONSOLE_GZIP_BUDGET = 40 * 1024;

describe('the console build', () => {
  // A copy of web/ beside the project's node_modules, so editing a source here touches nothing real.
  const dir = mkdtempSync(join(tmpdir(), 'sluice-console-build-'));
  const root = join(dir, 'web');
  cpSync(join(CONSOLE_ROOT, 'index.html'), join(root, 'index.html'));
  cpSync(join(CONSOLE_ROOT, 'src'), join(root, 'src'), { recursive: true });
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  const out = join(root, 'dist');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds when missing, not again while the sources are unchanged, and again once one changes', () => {
    expect(ensureConsoleBuilt(out, root)).toBe(true);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const assets = readdirSync(join(out, 'assets'));
    expect(assets.filter((f) => /^main-[A-Z0-9]+\.js$/.test(f))).toHaveLength(1);
    // The page names its hashed assets, and holds no inline script or style (the CSP allows none).
    for (const a of assets) expect(html).toContain(`/assets/${a}`);
    expect(html).not.toMatch(/<script>|<style>|style=/);
    // One ES module, small enough for a phone on a slow link: Preact and every page, no UI kit.
    expect(html).toMatch(/<script type="module" src="\/assets\/main-[A-Z0-9]+\.js">/);
    const js = readFileSync(join(out, 'assets', assets.find((f) => f.endsWith('.js'))!));
    expect(gzipSync(js).length).toBeLessThan(CONSOLE_GZIP_BUDGET);
    expect(ensureConsoleBuilt(out, root)).toBe(false);

    writeFileSync(join(root, 'src', 'styles.css'), readFileSync(join(root, 'src', 'styles.css'), 'utf8') + '\n.probe { color: #000; }\n');
    expect(ensureConsoleBuilt(out, root)).toBe(true);
    const rebuilt = readdirSync(join(out, 'assets'));
    expect(rebuilt.find((f) => f.endsWith('.css'))).not.toBe(assets.find((f) => f.endsWith('.css')));
    // Only the new build's files: the old hashed names are gone.
    expect(rebuilt).toHaveLength(2);
    expect(existsSync(join(out, 'assets', assets.find((f) => f.endsWith('.css'))!))).toBe(false);
  }, 60_000);
});
