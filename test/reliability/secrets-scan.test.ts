// The secrets scan (test/support/capture.ts) itself: it records what it claims to record, and it
// finds a password wherever one leaks. The scan of the whole suite runs after every test file.
import { describe, expect, it } from 'vitest';
import { logger } from '../../functions/shared/logger.js';
import { captured, findPasswords, leakForms, readAuditEntries, recordRequest } from '../support/capture.js';
import { startApi } from '../support/http.js';

describe('the secrets scan', () => {
  it('finds a password in a response, a log line, a Step Functions payload or an audit entry', () => {
    const pw = 'Canary-Scan-9f2e!';
    const texts = {
      responses: ['{"ok":true}', `{"error":{"message":"password ${pw} rejected"}}`],
      logs: [`{"msg":"connect","url":"postgres://u:${pw}@h/db"}`],
      payloads: ['{"issue":"projects/p/issues/1"}', `{"Payload":{"secret":"${pw}"}}`],
      audit: [`{"method":"queryDatabase","detail":{"statement":"SELECT '${pw}'"}}`],
    };

    const hits = findPasswords([pw], texts);

    expect(hits.map((h) => h.split(':')[0])).toEqual(['Can… in responses', 'Can… in logs', 'Can… in payloads', 'Can… in audit']);
    for (const h of hits) expect(h).not.toContain(pw);
  });

  it.each([
    ['URL-encoded', (pw: string) => `GET /cb?next=%2Fhome&token=${encodeURIComponent(pw)}&x=1`],
    ['form-encoded', (pw: string) => `body: user=u&password=${new URLSearchParams({ p: pw }).toString().slice(2)}`],
    ['JSON-escaped', (pw: string) => `{"msg":"bad","statement":${JSON.stringify(`SET PASSWORD = '${pw}'`)}}`],
    ['JSON-escaped twice', (pw: string) => JSON.stringify({ body: JSON.stringify({ password: pw }) })],
    ['base64', (pw: string) => `{"authorization":"Basic ${Buffer.from(`admin:${pw}`).toString('base64')}"}`],
    ['base64', (pw: string) => `blob ${Buffer.from(`x${pw}yz`).toString('base64')}`],
    ['base64url', (pw: string) => `token=${Buffer.from(`{"p":"${pw}"}`).toString('base64url')}`],
  ])('finds a password %s', (how, leak) => {
    // Prepare: quotes, a backslash, a space, a slash and non-ASCII, so every encoding differs from the password.
    const pw = 'Can"ary \\ sc/an+? ünï~';
    const texts = { logs: ['{"msg":"fine"}', leak(pw)] };

    // Act
    const hits = findPasswords([pw], texts);

    // Assess
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatch(new RegExp(`^Can… \\(${how}\\) in logs: `));
    for (const form of leakForms(pw)) expect(hits[0]).not.toContain(form.form);
  });

  it('finds each base64 alignment of a short password, and nothing in unrelated base64', () => {
    // Prepare
    const pw = 'Pw-8char';
    const shifted = [0, 1, 2].map((n) => Buffer.from(`${'.'.repeat(n)}${pw}!`).toString('base64'));
    // Base64 of other bytes; for an 8-character password the aligned core covers 6 of its bytes.
    const unrelated = Buffer.from('Pw-9char and other bytes entirely').toString('base64');

    // Act
    const hits = shifted.map((t) => findPasswords([pw], { payloads: [t] }));
    const none = findPasswords([pw], { payloads: [unrelated, 'Pw-8cha'] });

    // Assess
    expect(hits.map((h) => h.length)).toEqual([1, 1, 1]);
    expect(none).toEqual([]);
  });

  it('records the passwords sent, every response, every log line, the pipeline payloads and the audit entries of the file', async () => {
    const before = captured();
    const api = await startApi();
    const res = await api.call('POST', '/v1/instances?validateOnly=true', {
      body: { id: 'scan', title: 'S', engine: 'POSTGRES', environment: 'environments/test', dataSources: [{ type: 'ADMIN', host: '127.0.0.1', port: 1, username: 'u', password: 'Canary-Sent-4b1d!' }] },
    });
    logger.debug('a debug line');
    recordRequest('{"dataSources":[{"password":"Canary-Raw-77aa!"}]}');
    // Too short to look for without matching everything: "x", "secret".
    recordRequest({ password: 'x', webhookSecret: 'secret' });
    await api.server.close();

    expect(res.status).toBeGreaterThanOrEqual(200);
    const after = captured();
    expect(after.passwords).toEqual(expect.arrayContaining(['Canary-Sent-4b1d!', 'Canary-Raw-77aa!']));
    expect(after.passwords).not.toContain('x');
    expect(after.passwords).not.toContain('secret');
    expect(after.responses).toBeGreaterThan(before.responses);
    expect(after.logs).toBeGreaterThan(before.logs + 1);
    // The instance create left its audit entry, which the scan reads from the table.
    expect(await readAuditEntries()).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
