// The suite-wide secrets scan (RELIABILITY.md, "Secrets"). In every test file it records:
//   - every password the tests send (any `password`, `*Secret`, `accessToken` field of a request
//     body, 8 characters or more), and the test servers' own passwords;
//   - every response body the tests receive (fetch, so the local server; and test/support/api.ts,
//     which calls the handlers directly);
//   - every log line written, at debug level (functions/shared/logger.ts tapLogs), whatever sink
//     a test installs;
//   - every Step Functions payload of the local pipeline (its event log: execution input, each
//     state's input and output), recorded when test/support/http.ts closes it;
//   - every request a webhook receiver was sent (headers and body; test/support/http.ts);
//   - every audit entry stored in each table the file made (test/support/table.ts registers it),
//     read after the file, so whatever a test sent is looked for in what the audit log keeps.
// After the file, no password may appear in any of them, as itself or URL-encoded, JSON-escaped or
// base64-encoded (leakForms). Each file adds its counts to a run folder, and the global teardown
// prints the totals (the figure RELIABILITY.md quotes).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { tapLogs } from '../../functions/shared/logger.js';

const seen = { responses: [] as string[], logs: [] as string[], payloads: [] as string[], audit: [] as string[], deliveries: [] as string[] };
/** Readers of the audit entries of each table this file made, run after the file. */
const auditSources: (() => Promise<unknown[]>)[] = [];
const passwords = new Set<string>();
const SECRET_KEY = /password|secret$|accesstoken/i;
const MIN_LENGTH = 8;

function collect(value: unknown, key = ''): void {
  if (typeof value === 'string') {
    if (SECRET_KEY.test(key) && value.length >= MIN_LENGTH) passwords.add(value);
  } else if (Array.isArray(value)) for (const v of value) collect(v, key);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) collect(v, k);
}

/** A request body as sent (object or JSON text): its secret fields join the passwords to look for. */
export function recordRequest(body: unknown): void {
  if (typeof body === 'string') {
    try {
      collect(JSON.parse(body));
    } catch {
      // not JSON: no fields
    }
  } else collect(body);
}

export const recordResponse = (text: string): void => void seen.responses.push(text);
export const recordPassword = (password: string | undefined): void => void (password && password.length >= MIN_LENGTH && passwords.add(password));
/** A request as a webhook receiver gets it (its URL left out: it is itself write-only). */
export const recordDelivery = (text: string): void => void seen.deliveries.push(text);
export const recordPayloads = (events: readonly unknown[]): void => {
  for (const e of events) seen.payloads.push(JSON.stringify(e));
};

/** A table's audit entries, to be read and scanned after the file. */
export const recordAuditSource = (read: () => Promise<unknown[]>): void => void auditSources.push(read);

/** Reads the registered tables' audit entries now (the scan does it after the file; tests may ask sooner). */
export async function readAuditEntries(): Promise<number> {
  seen.audit = [];
  for (const read of auditSources) {
    // A table of DynamoDB Local that is gone has nothing left to leak.
    for (const entry of await read().catch(() => [])) seen.audit.push(JSON.stringify(entry));
  }
  return seen.audit.length;
}

/** What this file recorded so far (the secrets scan's own test reads it). */
export const captured = (): { passwords: string[]; responses: number; logs: number; payloads: number; audit: number; deliveries: number } => ({
  passwords: [...passwords], responses: seen.responses.length, logs: seen.logs.length, payloads: seen.payloads.length, audit: seen.audit.length, deliveries: seen.deliveries.length,
});

/**
 * The forms a secret may leak in besides itself: URL-encoded (a query string or a form body),
 * JSON-escaped once and twice (a string inside JSON, or JSON inside a JSON string), and base64
 * (standard and URL-safe) at each of the three alignments it can have inside a longer base64 text:
 * only the characters that depend on the secret's bytes alone.
 */
export function leakForms(secret: string): { form: string; how: string }[] {
  const forms: { form: string; how: string }[] = [{ form: secret, how: '' }];
  const add = (form: string, how: string) => {
    if (form.length >= MIN_LENGTH && !forms.some((f) => f.form === form)) forms.push({ form, how });
  };
  add(encodeURIComponent(secret), 'URL-encoded');
  add(new URLSearchParams({ s: secret }).toString().slice(2), 'form-encoded');
  const once = JSON.stringify(secret).slice(1, -1);
  add(once, 'JSON-escaped');
  add(JSON.stringify(once).slice(1, -1), 'JSON-escaped twice');
  const bytes = Buffer.from(secret, 'utf8');
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Skip the first group when it mixes in bytes before the secret; drop a last partial group.
    const core = encoded.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4);
    add(core, 'base64');
    add(core.replaceAll('+', '-').replaceAll('/', '_'), 'base64url');
  }
  return forms;
}

/** Each password found in the texts (in any of its leak forms), where, with a little context (the password masked). */
export function findPasswords(secrets: Iterable<string>, texts: Record<string, readonly string[]>): string[] {
  const out: string[] = [];
  const joined = Object.entries(texts).map(([where, list]) => [where, list, list.join('\n')] as const);
  for (const p of secrets) {
    const forms = leakForms(p);
    for (const [where, list, all] of joined) {
      // One pass over the whole list per form; lines are read only when a form is in it.
      const present = forms.filter((f) => all.includes(f.form));
      if (present.length === 0) continue;
      for (const t of list) {
        const hit = present.find((f) => t.includes(f.form));
        if (!hit) continue;
        const at = t.indexOf(hit.form);
        const mask = (x: string) => x.replaceAll(hit.form, '<pw>');
        out.push(`${p.slice(0, 3)}…${hit.how ? ` (${hit.how})` : ''} in ${where}: ${mask(t.slice(Math.max(0, at - 120), at))}<pw>${mask(t.slice(at + hit.form.length, at + hit.form.length + 80))}`);
      }
    }
  }
  return out;
}

let file = '';

/** Installed by test/support/setup.ts in every test file. */
export function installCapture(): void {
  tapLogs((line) => void seen.logs.push(line));
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const body = init?.body;
    if (typeof body === 'string') recordRequest(body);
    else if (body instanceof Uint8Array) recordRequest(Buffer.from(body).toString('utf8'));
    const res = await original(input, init);
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('json') || type.startsWith('text/')) {
      res.clone().text().then(recordResponse, () => undefined);
    }
    return res;
  };
  // eslint-disable-next-line no-empty-pattern -- vitest passes the suite second, after a fixtures pattern
  beforeAll(({}, suite) => {
    file = (suite as { file?: { name?: string } }).file?.name ?? '?';
    recordPassword(inject('postgresPasswords')?.password);
    recordPassword(inject('postgres')?.password);
  });
  afterAll(async () => {
    globalThis.fetch = original;
    await readAuditEntries();
    const found = findPasswords(passwords, seen);
    const dir = inject('secretsScanDir');
    if (dir) {
      const counts = { file, responses: seen.responses.length, logs: seen.logs.length, payloads: seen.payloads.length, audit: seen.audit.length, deliveries: seen.deliveries.length, passwords: passwords.size, hits: found.length };
      appendFileSync(join(dir, `${process.pid}.jsonl`), JSON.stringify(counts) + '\n');
    }
    if (found.length > 0) throw new Error(`secrets scan: ${found.length} password(s) in what the suite produced:\n${found.slice(0, 10).join('\n')}`);
  });
}

declare module 'vitest' {
  export interface ProvidedContext {
    secretsScanDir: string;
  }
}
