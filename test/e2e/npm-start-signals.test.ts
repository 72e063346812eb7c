// A signal to `npm start`'s own pid (what `nohup npm start & … kill $!` or a process manager sends)
// stops all of it within seconds: the API, DynamoDB Local's JVM and both sample PostgreSQL servers.
// npm forwards SIGINT and SIGTERM to its script; anything else (SIGHUP here) ends npm alone, and
// the server notices it lost its parent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamo-local.js';
import { npmStart, refusing, running, stopNpmStart, waitUntil, type NpmStart } from '../support/npm-start.js';

// One data folder for the three starts: the sample clusters are made once and reused.
const dataDir = mkdtempSync(join(tmpdir(), 'sluice-npm-signals-'));
const started: NpmStart[] = [];
afterAll(async () => {
  for (const s of started) await stopNpmStart(s, 5_000);
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('a signal to npm start', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('%s to npm stops the server, DynamoDB Local and the sample PostgreSQL servers', async (signal) => {
    const port = await freePort();
    const s = await npmStart({ port, dataDir });
    started.push(s);
    expect(await refusing(s.url)).toBe(false);
    const { tree } = s;
    // What has to stop: node, java, and both postmasters (their command lines name this data folder).
    expect(tree.filter((p) => /^java .*DynamoDBLocal\.jar/.test(p.command) && p.command.includes(dataDir))).toHaveLength(1);
    expect(tree.filter((p) => /^\S*postgres -D /.test(p.command) && p.command.includes(dataDir))).toHaveLength(2);
    expect(tree.filter((p) => /infra\/local\/main\.ts/.test(p.command))).toHaveLength(1);

    s.npm.kill(signal);
    expect(await waitUntil(() => refusing(s.url), 10_000), `port ${port} still answers after ${signal} to npm`).toBe(true);
    const left = await waitUntil(() => running(tree.map((p) => p.pid)).length === 0, 10_000);
    expect(left ? [] : running(tree.map((p) => p.pid)), `still running after ${signal} to npm`).toEqual([]);
    await s.exit;
  }, 240_000);
});
