// The outbound-address guard, the message shapes of each receiver type and the backoff schedule.
import { describe, expect, it } from 'vitest';
import { addressKind, addressRefusal, checkOutboundUrl } from '../../domain/common/outbound.js';
import { BACKOFF_MS } from '../../domain/notify/delivery.js';
import type { SluiceEvent } from '../../domain/notify/events.js';
import { activityEvent, approvalRequested } from '../../domain/notify/events.js';
import { renderMessage, type MessageContext } from '../../domain/notify/messages.js';
import type { Stage } from '../../domain/pipeline/model.js';

const DEPLOYED = { allowLoopback: false, allowlist: [] };
const LOCAL = { allowLoopback: true, allowlist: [] };

describe('the outbound-address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['::1', 'loopback'], ['10.1.2.3', 'private'], ['172.20.0.1', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'],
    ['169.254.169.254', 'metadata'], ['169.254.170.2', 'metadata'], ['fd00:ec2::254', 'metadata'], ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'],
    ['fc00::1', 'private'], ['::ffff:10.0.0.1', 'private'], ['::ffff:127.0.0.1', 'loopback'], ['0.0.0.0', 'private'],
  ])('%s is a %s address, refused deployed', (ip, kind) => {
    expect(addressKind(ip)).toBe(kind);
    expect(addressRefusal(DEPLOYED, 'h.example', ip)).toContain(`a ${kind} address`);
  });

  it.each(['93.184.216.34', '2606:4700::1111', '8.8.8.8'])('%s is public: allowed', (ip) => {
    expect(addressKind(ip)).toBeUndefined();
    expect(addressRefusal(DEPLOYED, 'h.example', ip)).toBeUndefined();
  });

  it('locally loopback is allowed, the metadata service and private ranges are not', () => {
    expect(addressRefusal(LOCAL, 'localhost', '127.0.0.1')).toBeUndefined();
    expect(addressRefusal(LOCAL, 'x', '169.254.169.254')).toContain('metadata');
    expect(addressRefusal(LOCAL, 'x', '10.0.0.5')).toContain('private');
  });

  it('the workspace allowlist lets a host, an address or a range through', () => {
    const policy = { allowLoopback: false, allowlist: ['hooks.internal', '10.0.0.0/8', '192.168.1.7'] };
    expect(addressRefusal(policy, 'hooks.internal', '172.16.0.9')).toBeUndefined();
    expect(addressRefusal(policy, 'other', '10.9.9.9')).toBeUndefined();
    expect(addressRefusal(policy, 'other', '192.168.1.7')).toBeUndefined();
    expect(addressRefusal(policy, 'other', '192.168.1.8')).toContain('private');
  });

  it('at save time every address a name resolves to is checked (one private address is enough to refuse)', async () => {
    const resolve = async (host: string) => (host === 'mixed.example' ? ['93.184.216.34', '10.0.0.7'] : ['93.184.216.34']);
    await expect(checkOutboundUrl(DEPLOYED, resolve, new URL('https://mixed.example/h'), 'url')).rejects.toMatchObject({ details: [{ field: 'url', description: expect.stringContaining('10.0.0.7, a private address') }] });
    await expect(checkOutboundUrl(DEPLOYED, resolve, new URL('https://fine.example/h'), 'url')).resolves.toBeUndefined();
    await expect(checkOutboundUrl(DEPLOYED, resolve, new URL('http://[::1]:8080/'), 'apiUrl')).rejects.toMatchObject({ details: [{ field: 'apiUrl' }] });
    await expect(checkOutboundUrl(DEPLOYED, async () => [], new URL('https://nowhere.example/'), 'url')).rejects.toMatchObject({ details: [{ field: 'url', description: expect.stringContaining('does not resolve') }] });
  });
});

const EVENT: SluiceEvent = {
  id: 'e1', type: 'APPROVAL_REQUESTED', project: 'shop', issue: 'projects/shop/issues/7', stage: 'projects/shop/issues/7/stages/prod',
  actor: 'users/3', time: '2026-12-06T08:00:00.000Z', roles: ['projectReleaser'], step: 1, steps: 2, rule: 'prod',
};
const CTX: MessageContext = { event: EVENT, issueTitle: 'Add index', actorLabel: 'Rel <rel@x.test> (users/3)', actorEmail: 'rel@x.test', link: 'https://sluice.example/v1/projects/shop/issues/7' };

describe('messages: what happened, to which issue and stage, who acted, who must act next, a link', () => {
  const mustSay = (text: string) => {
    expect(text).toContain('projects/shop/issues/7');
    expect(text).toContain('prod');
    expect(text).toContain('projectReleaser');
    expect(text).toContain('https://sluice.example/v1/projects/shop/issues/7');
  };

  it('SLACK: Block Kit with a header, the summary linked, fields and a button', () => {
    const m = renderMessage('SLACK', CTX) as { text: string; blocks: { type: string }[] };
    expect(m.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'actions']);
    expect(m.text).toContain('Approval requested');
    mustSay(JSON.stringify(m));
  });

  it('TEAMS: an Adaptive Card attachment (Workflows) with a FactSet and an OpenUrl action', () => {
    const m = renderMessage('TEAMS', CTX) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(m.type).toBe('message');
    expect(m.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(m.attachments[0].content).toMatchObject({ type: 'AdaptiveCard', version: '1.4', actions: [{ type: 'Action.OpenUrl', url: CTX.link }] });
    expect(m.attachments[0].content.body.map((b: { type: string }) => b.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet']);
    mustSay(JSON.stringify(m));
  });

  it('GOOGLE_CHAT: a cardsV2 card with a header, decorated texts and an openLink button', () => {
    const m = renderMessage('GOOGLE_CHAT', CTX) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(m.cardsV2[0].card.header.title).toBe('Approval requested');
    expect(m.cardsV2[0].card.sections[0].widgets.at(-1).buttonList.buttons[0].onClick.openLink.url).toBe(CTX.link);
    mustSay(JSON.stringify(m));
  });

  it('DISCORD: content and an embed with url, timestamp and fields, within Discord limits', () => {
    const m = renderMessage('DISCORD', { ...CTX, event: { ...EVENT, comment: 'x'.repeat(5000) } }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(m.embeds[0]).toMatchObject({ url: CTX.link, timestamp: EVENT.time });
    expect(m.content.length).toBeLessThanOrEqual(2000);
    for (const f of m.embeds[0].fields) expect(f.value.length).toBeLessThanOrEqual(1024);
    mustSay(JSON.stringify(m));
  });

  it('GENERIC: {event, project, issue, stage, task?, actor, time, link} and the roles waited for', () => {
    expect(renderMessage('GENERIC', CTX)).toMatchObject({
      event: 'APPROVAL_REQUESTED', project: 'projects/shop', issue: { name: 'projects/shop/issues/7', title: 'Add index' }, stage: EVENT.stage,
      actor: { name: 'users/3', email: 'rel@x.test' }, time: EVENT.time, link: CTX.link, approval: { roles: ['projectReleaser'], step: 1, steps: 2, rule: 'prod' },
    });
  });
});

describe('delivery schedule', () => {
  it('the first three attempts fall within a minute, and attempts go on for at least 24 hours', () => {
    expect(BACKOFF_MS[0]! + BACKOFF_MS[1]!).toBeLessThan(60_000);
    expect(BACKOFF_MS.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * 3600_000);
    for (let i = 1; i < BACKOFF_MS.length; i++) expect(BACKOFF_MS[i]!).toBeGreaterThanOrEqual(BACKOFF_MS[i - 1]!);
  });
});

describe('APPROVAL_REQUESTED from stage writes', () => {
  const base = { project: 'shop', issue: 7, id: 'prod', version: 1 } as unknown as Stage;
  const steps = (a: string, b: string, approver?: number) => ({ status: 'PENDING', rule: 'prod', steps: [{ roles: ['projectReleaser'], status: a, ...(approver ? { approver } : {}) }, { roles: ['workspaceDBA'], status: b }] });
  it('once per waiting step: reaching the gate, the next step after an approval; not for a write that changes neither', () => {
    const running = { ...base, status: 'RUNNING', approval: steps('PENDING', 'PENDING') } as unknown as Stage;
    const waiting = { ...running, status: 'PENDING_APPROVAL' } as Stage;
    const second = { ...waiting, approval: steps('APPROVED', 'PENDING', 5) } as unknown as Stage;
    expect(approvalRequested(running, waiting, 't')).toMatchObject({ roles: ['projectReleaser'], step: 1, actor: 'users/1' });
    expect(approvalRequested(waiting, second, 't')).toMatchObject({ roles: ['workspaceDBA'], step: 2, actor: 'users/5' });
    expect(approvalRequested(second, second, 't')).toBeUndefined();
    expect(approvalRequested(waiting, { ...second, status: 'RUNNING' } as Stage, 't')).toBeUndefined();
  });
});

describe('events from activities', () => {
  it('a plan check that blocks the pipeline (its PLAN_CHECK_ERROR activity) is a PLAN_CHECK_ERROR event; an override is no contract event', () => {
    const blocked = { project: 'shop', issue: 7, type: 'PLAN_CHECK_ERROR', actor: 1, time: '2026-12-06T10:00:00.000Z', comment: '1 ERROR advice(s)' } as const;
    expect(activityEvent(blocked)).toEqual({ type: 'PLAN_CHECK_ERROR', project: 'shop', issue: 'projects/shop/issues/7', actor: 'users/1', time: blocked.time, comment: '1 ERROR advice(s)' });
    expect(activityEvent({ ...blocked, type: 'CHECKS_OVERRIDDEN' })).toBeUndefined();
  });
});
