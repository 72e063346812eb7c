// Runs `sluice` as a user does: a child process of the bin script (node, tsx), with its own HOME and
// XDG config folder, so no test reads or writes anyone's ~/.config. Asynchronous on purpose: the
// local server the CLI talks to lives in the test's own process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../cli/bin/sluice.js', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Written to stdin, then closed. */
  input?: string;
  /** The working folder (file arguments are relative to it). */
  cwd?: string;
}

/** A running CLI: its output so far, and its end. */
export function start(args: string[], o: RunOptions = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, ...o.env } as NodeJS.ProcessEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  child.stdin.end(o.input ?? '');
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, ...out })));
  return { child, out, done };
}

export const sluice = (args: string[], o: RunOptions = {}): Promise<Run> => start(args, o).done;

/** Every SGR colour and cursor sequence removed. */
// eslint-disable-next-line no-control-regex
export const stripAnsi = (s: string): string => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
