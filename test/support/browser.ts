// A real browser for the console's tests: Debian's Chromium (installed by .ci/run), driven by
// playwright-core (which downloads nothing), one fresh profile per simulated person.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Profile {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy refusals and uncaught page errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** A browser profile of its own (a fresh --user-data-dir): another person at another desk. */
export async function openProfile(viewport = { width: 1280, height: 900 }): Promise<Profile> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }

/**
 * axe-core's WCAG 2 A/AA rules on the page as it is. Evaluated through the DevTools protocol, so the
 * console's CSP (no inline script) stays on: the check sees the page a user gets.
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // Strings, not functions: this file is compiled without the DOM's types.
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  const result = (await page.evaluate(
    "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })",
  )) as { violations: AxeViolation[] };
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
}

/** The violations a user would be hurt by: serious and critical. */
export const serious = (vs: AxeViolation[]) => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');
