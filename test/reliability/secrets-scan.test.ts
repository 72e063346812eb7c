// The secrets scan (test/support/capture.ts) itself: it records what it claims to record, and it
// finds a password wherever one leaks. The scan of the whole suite runs after every test file.
import { describe, expect, it } from 'vitest';
import { logger } from '../../functions/shared/logger.js';
import { captured, findPasswords, recordRequest } from '../support/capture.js';
import { startApi } from '../support/http.js';

describe('the secrets scan', () => {
  it('finds a password in a response, a log line or a Step Functions payload', () => {
    const pw = 'Canary-Scan-9f2e!';
    const texts = {
      responses: ['{"ok":true}', `{"error":{"message":"password ${pw} rejected"}}`],
      logs: [`{"msg":"connect","url":"postgres://u:${pw}@h/db"}`],
      payloads: ['{"issue":"projects/p/issues/1"}', `{"Payload":{"secret":"${pw}"}}`],
    };

    const hits = findPasswords([pw], texts);

    expect(hits.map((h) => h.split(':')[0])).toEqual(['Can… in responses', 'Can… in logs', 'Can… in payloads']);
    for (const h of hits) expect(h).not.toContain(pw);
  });

  it('records the passwords sent, every response, every log line and the pipeline payloads of the file', async () => {
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
  }, 60_000);
});
