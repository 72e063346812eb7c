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

/** The console's dev sign-in (`npm start`), as a person does it: the email, then the button. */
export async function signIn(p: Profile, url: string, email: string): Promise<void> {
  await p.page.goto(`${url}/`);
  await p.page.getByLabel('Email').fill(email);
  await p.page.getByRole('button', { name: 'Sign in' }).click();
  await p.page.getByTestId('me').filter({ hasText: email }).waitFor();
}

/** How wide the page's content is, to compare with the viewport (nothing should need sideways scrolling). */
export const contentWidth = (page: Page): Promise<number> => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;

/**
 * The steps every console test takes against one `npm start`: open a route (`go`), and run axe
 * once the page shows `ready` (`check`), keeping what it found per page name in `a11y`.
 */
export function consoleSteps(url: () => string) {
  const a11y = new Map<string, AxeViolation[]>();
  return {
    a11y,
    go: async (p: Profile, hash: string): Promise<void> => {
      await p.page.goto(`${url()}/#/${hash}`);
      await p.page.locator('main#main').waitFor();
    },
    check: async (p: Profile, name: string, ready: string): Promise<void> => {
      await p.page.getByText(ready, { exact: false }).first().waitFor();
      a11y.set(name, await axe(p.page));
    },
    /** The serious and critical violations found, one line each, naming the page. */
    seriousFound: (): string[] => [...a11y].flatMap(([page, vs]) => serious(vs).map((v) => `${page}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`)),
  };
}

/**
 * Presses Tab (at most `limit` times) until the focused element's accessible name, label or text
 * matches `name`; fails naming what focus went through. For keyboard-only tests: no click, no focus().
 */
export async function tabTo(page: Page, name: RegExp, limit = 250): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const label = (await page.evaluate(`(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return '';
      const labelled = el.id ? document.querySelector('label[for="' + el.id + '"]') : null;
      return el.getAttribute('aria-label') || (labelled && labelled.textContent) || el.textContent || '';
    })()`)) as string;
    seen.push(label.trim());
    if (name.test(label.trim())) return;
  }
  throw new Error(`Tab never reached ${name}; focus went through: ${seen.filter(Boolean).slice(-40).join(' | ')}`);
}
