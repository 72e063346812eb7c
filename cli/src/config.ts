// Where the server and the token come from: --url/--token, else SLUICE_URL/SLUICE_TOKEN, else the
// file `sluice login` writes: $XDG_CONFIG_HOME/sluice/config.json (default ~/.config), mode 0600 in
// a 0700 folder. A token from the file is sent only to the server it was saved for.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, UsageError } from './errors.js';

export interface StoredConfig {
  url: string;
  token: string;
  /** What the token says, kept for `whoami` and the expiry notice. */
  email?: string;
  expiresAt?: string;
  /** How the token was obtained: given (`--token`) or a Cognito sign-in. */
  via?: 'token' | 'cognito';
}

export interface Connection {
  url: string;
  token?: string;
  /** Where the token came from, for messages. */
  tokenSource?: '--token' | 'SLUICE_TOKEN' | 'config';
}

type Env = Record<string, string | undefined>;

export function configPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'sluice', 'config.json');
}

export function readConfig(env: Env = process.env): StoredConfig | undefined {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredConfig>;
    if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string') throw new Error('url and token are required');
    return parsed as StoredConfig;
  } catch (e) {
    throw new CliError(`${path} is not a sluice configuration (${(e as Error).message}); run sluice login again`);
  }
}

/** Writes the file whole (a temporary file renamed over it), readable by its owner only. */
export function writeConfig(config: StoredConfig, env: Env = process.env): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** `http://host:3000/`, `http://host:3000/v1` → `http://host:3000`; anything but http(s) is refused. */
export function normalizeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url: ${JSON.stringify(raw)} is not a URL like http://127.0.0.1:3000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url: ${raw} must be http or https`);
  if (url.search || url.hash) throw new UsageError(`--url: ${raw} must not carry a query or fragment`);
  return url.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

export function resolveConnection(flags: { url?: string; token?: string }, env: Env = process.env, stored: StoredConfig | undefined = readConfig(env)): Connection {
  const given = flags.url ?? env.SLUICE_URL;
  const url = given !== undefined && given !== '' ? normalizeUrl(given) : stored?.url;
  if (!url) throw new UsageError('no server: give --url, set SLUICE_URL, or sign in with sluice login --url <url>');
  if (flags.token) return { url, token: flags.token, tokenSource: '--token' };
  if (env.SLUICE_TOKEN) return { url, token: env.SLUICE_TOKEN, tokenSource: 'SLUICE_TOKEN' };
  if (stored && normalizeUrl(stored.url) === url) return { url, token: stored.token, tokenSource: 'config' };
  return { url };
}
