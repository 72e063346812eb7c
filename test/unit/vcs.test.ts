import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareVersions, issueTypeOf, parseMigrationPath } from '../../domain/common/migrations.js';
import { checkApiUrl, deliveryId, parsePush, receiveWebhook, verifySignature, type VcsConnector, type VcsDelivery, type VcsRepo, type VcsWorkerInput } from '../../domain/gitops/vcs.js';

describe('migration file names', () => {
  it('reads a database file, a group file and canonical versions', () => {
    // Act & Assess
    expect(parseMigrationPath('migrations/shop/V001_2__add_email_column.sql', 'migrations')).toEqual({
      path: 'migrations/shop/V001_2__add_email_column.sql', target: { kind: 'database', database: 'shop' }, version: '1.2', description: 'add email column',
    });
    expect(parseMigrationPath('db/@tenants/V3__x.sql', 'db')).toMatchObject({ target: { kind: 'group', group: 'tenants' }, version: '3' });
    expect(parseMigrationPath('shop/V1__x.sql', '')).toMatchObject({ target: { kind: 'database', database: 'shop' } });
  });

  it.each([
    ['migrations/shop/create.sql', /V\{version\}__/],
    ['migrations/shop/V1_add.sql', /V\{version\}__/],
    ['migrations/shop/V1__.sql', /description/],
    ['migrations/V1__top_level.sql', /not a migration file/],
    ['migrations/a/b/V1__deep.sql', /not a migration file/],
    ['migrations/@Bad_Group/V1__x.sql', /not a database group id/],
    ['migrations/shop/V1__x.SQL', /V\{version\}__/],
  ])('rejects %s, saying why', (path, reason) => {
    // Act
    const parsed = parseMigrationPath(path, 'migrations');

    // Assess
    expect(parsed).toEqual({ rejected: expect.stringMatching(reason) });
  });

  it('orders versions numerically, segment by segment', () => {
    // Act
    const sorted = ['10', '2', '1.10', '1.9', '1', '2.0'].sort(compareVersions);

    // Assess
    expect(sorted).toEqual(['1', '1.9', '1.10', '2', '2.0', '10']);
  });

  it('makes a data update only from a first line `-- sluice:type=data`', () => {
    // Act & Assess
    expect(issueTypeOf('-- sluice:type=data\nINSERT INTO t VALUES (1);')).toBe('DATABASE_DATA_UPDATE');
    expect(issueTypeOf('--sluice:type = DATA\r\nUPDATE t SET a = 1;')).toBe('DATABASE_DATA_UPDATE');
    expect(issueTypeOf('ALTER TABLE t ADD c int;\n-- sluice:type=data')).toBe('DATABASE_SCHEMA_UPDATE');
  });
});

describe('push payloads', () => {
  it('keeps the files under baseDirectory as they stand at the head of the push', () => {
    // Prepare
    const payload = {
      ref: 'refs/heads/main',
      after: 'c3',
      commits: [
        { id: 'c1', author: { name: 'Ada', email: 'ada@example.com' }, added: ['migrations/a/V1__x.sql', 'migrations/a/V2__gone.sql', 'README.md'], modified: [], removed: [] },
        { id: 'c2', author: { name: 'Bob', email: 'bob@example.com' }, added: [], modified: ['migrations/a/V1__x.sql', 'migrations/a/V0__old.sql'], removed: ['migrations/a/V2__gone.sql'] },
      ],
    };

    // Act
    const push = parsePush(payload, 'migrations');

    // Assess
    expect(push.files).toEqual([
      { path: 'migrations/a/V1__x.sql', change: 'ADDED', commit: 'c2', author: 'Bob <bob@example.com>' },
      { path: 'migrations/a/V0__old.sql', change: 'MODIFIED', commit: 'c2', author: 'Bob <bob@example.com>' },
    ]);
    expect(push.after).toBe('c3');
  });

  it('refuses a payload that is no push', () => {
    // Act & Assess
    expect(() => parsePush({ zen: 'hi' }, 'migrations')).toThrow(/ref and after are required/);
  });
});

describe('webhook signatures', () => {
  const body = '{"ref":"refs/heads/main"}';
  const secret = 'a-webhook-secret-of-some-length';
  const good = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('GitHub: the HMAC-SHA256 of the exact body, nothing else', () => {
    // Act & Assess
    expect(verifySignature('GITHUB', secret, body, { 'x-hub-signature-256': good })).toBe(true);
    expect(verifySignature('GITHUB', secret, body + ' ', { 'x-hub-signature-256': good })).toBe(false);
    expect(verifySignature('GITHUB', 'another-secret-entirely', body, { 'x-hub-signature-256': good })).toBe(false);
    expect(verifySignature('GITHUB', secret, body, { 'x-hub-signature-256': good.slice(0, -1) })).toBe(false);
    expect(verifySignature('GITHUB', secret, body, {})).toBe(false);
    // A GitLab token is not a GitHub signature.
    expect(verifySignature('GITHUB', secret, body, { 'x-gitlab-token': secret })).toBe(false);
  });

  it("GitHub: accepts the example GitHub publishes, and refuses it altered", () => {
    // Prepare: "Validating webhook deliveries" (docs.github.com), "Testing the webhook payload
    // validation": this secret and payload give this X-Hub-Signature-256. Checked independently:
    // printf 'Hello, World!' | openssl dgst -sha256 -hmac "It's a Secret to Everybody"
    const published = { secret: "It's a Secret to Everybody", payload: 'Hello, World!', signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };

    // Act & Assess
    expect(verifySignature('GITHUB', published.secret, published.payload, { 'x-hub-signature-256': published.signature })).toBe(true);
    expect(verifySignature('GITHUB', published.secret, 'Hello, World?', { 'x-hub-signature-256': published.signature })).toBe(false);
    expect(verifySignature('GITHUB', "It's a secret to everybody", published.payload, { 'x-hub-signature-256': published.signature })).toBe(false);
    expect(verifySignature('GITHUB', published.secret, published.payload, { 'x-hub-signature-256': published.signature.replace('sha256=', '') })).toBe(false);
  });

  it('GitLab: X-Gitlab-Token equal to the secret', () => {
    // Act & Assess
    expect(verifySignature('GITLAB', secret, body, { 'x-gitlab-token': secret })).toBe(true);
    expect(verifySignature('GITLAB', secret, body, { 'x-gitlab-token': secret.toUpperCase() })).toBe(false);
    expect(verifySignature('GITLAB', secret, body, { 'x-gitlab-token': '' })).toBe(false);
    expect(verifySignature('GITLAB', secret, body, { 'x-hub-signature-256': good })).toBe(false);
  });

  it('takes the provider delivery id, else a hash of the body', () => {
    // Act & Assess
    expect(deliveryId('GITHUB', { 'x-github-delivery': 'abc-123' }, body)).toBe('abc-123');
    expect(deliveryId('GITLAB', { 'x-gitlab-event-uuid': 'u-1' }, body)).toBe('u-1');
    expect(deliveryId('GITLAB', {}, body)).toBe(deliveryId('GITLAB', {}, body));
    expect(deliveryId('GITLAB', {}, body)).not.toBe(deliveryId('GITLAB', {}, body + ' '));
    expect(deliveryId('GITHUB', { 'x-github-delivery': 'bad id with spaces' }, body)).toMatch(/^sha256-/);
  });
});

describe('apiUrl', () => {
  it('is https, or http on loopback only, and carries no credentials', () => {
    // Act & Assess
    expect(checkApiUrl('https://gitlab.example.com/api/v4/')).toBe('https://gitlab.example.com/api/v4');
    expect(checkApiUrl('http://127.0.0.1:3100')).toBe('http://127.0.0.1:3100');
    expect(() => checkApiUrl('http://gitlab.example.com/api/v4')).toThrow(/https/);
    expect(() => checkApiUrl('https://user:pw@github.com')).toThrow(/credentials/);
    expect(() => checkApiUrl('file:///etc/passwd')).toThrow(/https/);
    expect(() => checkApiUrl('not a url')).toThrow(/absolute URL/);
  });
});

describe('the receiver', () => {
  // Prepare: an in-memory store holding one GitLab connector, and a dispatcher that records.
  const connector: VcsConnector = {
    project: 'shop', provider: 'GITLAB', apiUrl: 'https://gitlab.example.com/api/v4', repository: 'acme/shop', branch: 'main', baseDirectory: 'migrations',
    createTime: '2026-11-26T00:00:00Z', updateTime: '2026-11-26T00:00:00Z', version: 1,
  };
  const body = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', after: 'c1', commits: [{ id: 'c1', added: ['migrations/shop/V1__x.sql'] }] });
  const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'the-webhook-secret-123', 'x-gitlab-event-uuid': 'd-1' };
  function receiver(now: () => Date) {
    const deliveries = new Map<string, VcsDelivery>();
    const dispatched: VcsWorkerInput[] = [];
    const vcs = {
      getConnector: async (p: string) => (p === 'shop' ? connector : undefined),
      recordDelivery: async (d: VcsDelivery) => (deliveries.has(d.id) ? false : (deliveries.set(d.id, d), true)),
      findDelivery: async (_p: string, id: string) => deliveries.get(id),
      forgetDelivery: async (_p: string, id: string) => void deliveries.delete(id),
    } as unknown as VcsRepo;
    const deps = { vcs, secrets: { get: async () => 'the-webhook-secret-123' }, dispatcher: async () => ({ dispatch: async (i: VcsWorkerInput) => void dispatched.push(i) }), now };
    return { deps, deliveries, dispatched };
  }

  it('takes a delivery id once; a redelivery of one never processed after 15 minutes is queued again', async () => {
    let clock = new Date('2026-11-26T10:00:00Z');
    const { deps, deliveries, dispatched } = receiver(() => clock);

    // Act
    const first = await receiveWebhook(deps, 'shop', body, headers);
    const again = await receiveWebhook(deps, 'shop', body, headers);
    clock = new Date('2026-11-26T10:16:00Z');
    const later = await receiveWebhook(deps, 'shop', body, headers);
    deliveries.get('d-1')!.status = 'PROCESSED';
    const processed = await receiveWebhook(deps, 'shop', body, headers);

    // Assess
    expect([first.status, again.status, later.status, processed.status]).toEqual([202, 200, 202, 200]);
    expect(again.body.message).toMatch(/duplicate/);
    expect(later.body.message).toMatch(/re-queued/);
    expect(dispatched).toEqual([
      { project: 'shop', delivery: 'd-1', receiveTime: '2026-11-26T10:00:00.000Z' },
      { project: 'shop', delivery: 'd-1', receiveTime: '2026-11-26T10:00:00.000Z' },
    ]);
  });

  it('answers 401 alike for a wrong token, a missing one and a project without a connector, and records nothing', async () => {
    const { deps, deliveries, dispatched } = receiver(() => new Date());

    // Act & Assess
    for (const [project, h] of [['shop', { ...headers, 'x-gitlab-token': 'nope' }], ['shop', { 'x-gitlab-event': 'Push Hook' }], ['other', headers]] as const) {
      await expect(receiveWebhook(deps, project, body, h)).rejects.toMatchObject({ httpStatus: 401, message: 'the webhook signature does not verify for this project' });
    }
    expect([deliveries.size, dispatched.length]).toEqual([0, 0]);
  });
});
