// What every command gets: its streams and environment, the global options (--url, --token,
// --json), and the API client built from them on first use.
import { Api } from './api.js';
import { resolveConnection, type Connection } from './config.js';
import { UsageError } from './errors.js';

export type Env = Record<string, string | undefined>;

export interface Out {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  out: Out & NodeJS.WritableStream;
  err: Out & NodeJS.WritableStream;
  env: Env;
  stdin: NodeJS.ReadStream;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export class Ctx {
  private client: Api | undefined;
  constructor(
    readonly io: Io,
    readonly globals: GlobalOptions,
  ) {}

  get json(): boolean {
    return this.globals.json === true;
  }

  connection(): Connection {
    return resolveConnection(this.globals, this.io.env);
  }

  api(): Api {
    this.client ??= new Api(this.connection());
    return this.client;
  }

  /** Text for people: suppressed by --json. */
  say(text = ''): void {
    if (!this.json) this.io.out.write(text + '\n');
  }

  /** The API's JSON, as it came (pretty-printed). */
  printJson(value: unknown): void {
    this.io.out.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** A note on stderr (progress, warnings): never mixed into output meant for scripts. */
  note(text: string): void {
    this.io.err.write(text + '\n');
  }
}

const ID = /^[a-z][a-z0-9-]{1,62}$/;

/** `-p shop` or `-p projects/shop` → `shop`. */
export function projectId(raw: string): string {
  const id = raw.replace(/^projects\//, '');
  if (!ID.test(id)) throw new UsageError(`-p: ${JSON.stringify(raw)} is not a project id (like sample)`);
  return id;
}

/** `12` or `projects/p/issues/12` → 12. */
export function issueNumber(raw: string): number {
  const m = /^(?:projects\/[a-z][a-z0-9-]{1,62}\/issues\/)?([1-9][0-9]{0,9})$/.exec(raw);
  if (!m) throw new UsageError(`${JSON.stringify(raw)} is not an issue number (like 12)`);
  return Number(m[1]);
}

/** `prod` or `environments/prod` → `prod`. */
export function envId(raw: string, option = '--stage'): string {
  const id = raw.replace(/^environments\//, '').replace(/^.*\/stages\//, '');
  if (!ID.test(id)) throw new UsageError(`${option}: ${JSON.stringify(raw)} is not an environment id (like prod)`);
  return id;
}

/** `instances/i/databases/d`, or the short `i/d`. */
export function databaseRef(raw: string, option: string): string {
  if (/^instances\/[a-z][a-z0-9-]{1,62}\/databases\/[^/]{1,128}$/.test(raw)) return raw;
  const m = /^([a-z][a-z0-9-]{1,62})\/([^/]{1,128})$/.exec(raw);
  if (m) return `instances/${m[1]}/databases/${m[2]}`;
  throw new UsageError(`${option}: ${JSON.stringify(raw)} is not a database (instances/<instance>/databases/<name>, or <instance>/<name>)`);
}
