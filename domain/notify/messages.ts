// What each event becomes for each receiver: Slack Block Kit, a Teams Adaptive Card (Workflows),
// Google Chat cards v2, Discord embeds, or Sluice's own signed JSON. Every message says what
// happened, to which issue and stage, who acted, who must act next, with a link.
import type { SluiceEvent } from './events.js';
import type { WebhookType } from './webhooks.js';

/** The event with what a person reads: the issue's title, the actor's name and email, the link. */
export interface MessageContext {
  event: SluiceEvent;
  issueTitle?: string;
  /** e.g. "Ann Lee <ann@example.com> (users/3)"; Sluice itself for users/1. */
  actorLabel: string;
  actorEmail?: string;
  /** Where to look: the issue (else the project) in the console or the API. */
  link: string;
}

const ROLE_LABEL: Record<string, string> = {
  projectOwner: 'a project owner (projectOwner)',
  projectReleaser: 'a project releaser (projectReleaser)',
  projectDeveloper: 'a project developer (projectDeveloper)',
  workspaceDBA: 'a workspace DBA (workspaceDBA)',
  workspaceAdmin: 'a workspace admin (workspaceAdmin)',
};
const roleLabel = (r: string): string => ROLE_LABEL[r] ?? r;
const last = (name: string | undefined): string | undefined => name?.split('/').pop();

const HEADLINE: Record<string, string> = {
  ISSUE_CREATED: 'Issue created',
  APPROVAL_REQUESTED: 'Approval requested',
  STAGE_APPROVED: 'Stage approved',
  STAGE_REJECTED: 'Stage rejected',
  TASK_FAILED: 'Task failed',
  ISSUE_DONE: 'Issue done',
  ISSUE_CANCELED: 'Issue canceled',
  PLAN_CHECK_ERROR: 'Plan check found errors',
  SCHEMA_DRIFT: 'Schema drift detected',
  TEST: 'Test message',
};

/** Who must act next, in words; undefined when nobody has to. */
export function nextAction(e: SluiceEvent): string | undefined {
  switch (e.type) {
    case 'APPROVAL_REQUESTED':
      return `${(e.roles ?? []).map(roleLabel).join(' or ')} must approve${e.steps && e.steps > 1 ? ` (step ${e.step} of ${e.steps}${e.rule ? `, rule "${e.rule}"` : ''})` : ''}`;
    case 'STAGE_REJECTED':
      return "the issue's creator: change the statement and request approval again, or cancel the issue";
    case 'TASK_FAILED':
      return 'a project releaser or owner: retry the task (:run) or skip it (:skip)';
    case 'PLAN_CHECK_ERROR':
      return "the issue's creator: fix the statement";
    case 'SCHEMA_DRIFT':
      return 'a DBA: review the drift and bring the schema back or record the change';
    default:
      return undefined;
  }
}

/** One sentence: what happened, to what, by whom. */
export function summary(c: MessageContext): string {
  const e = c.event;
  const issue = e.issue ? `${e.issue}${c.issueTitle ? ` "${c.issueTitle}"` : ''}` : `project ${e.project}`;
  const stage = e.stage ? ` in stage ${last(e.stage)}` : '';
  const task = e.task ? ` task ${last(e.task)}` : '';
  const what: Record<string, string> = {
    ISSUE_CREATED: `${c.actorLabel} created ${issue}`,
    APPROVAL_REQUESTED: `${issue} waits for approval${stage}`,
    STAGE_APPROVED: `${c.actorLabel} approved${stage} of ${issue}`,
    STAGE_REJECTED: `${c.actorLabel} rejected${stage} of ${issue}`,
    TASK_FAILED: `${task.trim() || 'A task'}${stage} of ${issue} failed`,
    ISSUE_DONE: `${issue} is done: every task ran`,
    ISSUE_CANCELED: `${c.actorLabel} canceled ${issue}`,
    PLAN_CHECK_ERROR: `The plan check of ${issue}${stage} found errors`,
    SCHEMA_DRIFT: `The schema of ${e.database ?? 'a database'} drifted from its recorded history`,
  };
  return (what[e.type] ?? `${e.type} on ${issue}`).replace(/^./, (ch) => ch.toUpperCase());
}

const facts = (c: MessageContext): [string, string][] => {
  const e = c.event;
  const out: [string, string][] = [];
  if (e.issue) out.push(['Issue', `${e.issue}${c.issueTitle ? ` — ${c.issueTitle}` : ''}`]);
  if (e.stage) out.push(['Stage', last(e.stage)!]);
  if (e.task) out.push(['Task', e.task]);
  if (e.database) out.push(['Database', e.database]);
  out.push(['By', c.actorLabel]);
  const next = nextAction(e);
  if (next) out.push(['Next', next]);
  if (e.comment) out.push(['Detail', e.comment.slice(0, 500)]);
  return out;
};

/** The GENERIC payload: `{event, project, issue?, stage?, task?, actor, time, link}` and the rest of the event. */
export function genericPayload(c: MessageContext): Record<string, unknown> {
  const e = c.event;
  const next = nextAction(e);
  return {
    event: e.type,
    id: e.id,
    project: `projects/${e.project}`,
    ...(e.issue ? { issue: { name: e.issue, ...(c.issueTitle ? { title: c.issueTitle } : {}) } } : {}),
    ...(e.stage ? { stage: e.stage } : {}),
    ...(e.task ? { task: e.task } : {}),
    ...(e.database ? { database: e.database } : {}),
    actor: { name: e.actor, ...(c.actorEmail ? { email: c.actorEmail } : {}) },
    time: e.time,
    link: c.link,
    summary: summary(c),
    ...(e.type === 'APPROVAL_REQUESTED' ? { approval: { roles: e.roles ?? [], step: e.step, steps: e.steps, ...(e.rule ? { rule: e.rule } : {}) } } : {}),
    ...(next ? { next } : {}),
    ...(e.comment ? { comment: e.comment } : {}),
  };
}

/** The JSON body of the message for a receiver type. */
export function renderMessage(type: WebhookType, c: MessageContext): Record<string, unknown> {
  const title = HEADLINE[c.event.type] ?? c.event.type;
  const text = summary(c);
  const fs = facts(c);
  switch (type) {
    case 'SLACK':
      return {
        text: `${title}: ${text}`,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: title } },
          { type: 'section', text: { type: 'mrkdwn', text: `<${c.link}|${text}>` } },
          { type: 'section', fields: fs.map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })).slice(0, 10) },
          { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Sluice' }, url: c.link }] },
        ],
      };
    case 'TEAMS':
      // A Teams Workflows ("When a Teams webhook request is received") trigger takes Adaptive Cards as attachments.
      return {
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: title },
                { type: 'TextBlock', text, wrap: true },
                { type: 'FactSet', facts: fs.map(([k, v]) => ({ title: k, value: v })) },
              ],
              actions: [{ type: 'Action.OpenUrl', title: 'Open in Sluice', url: c.link }],
            },
          },
        ],
      };
    case 'GOOGLE_CHAT':
      return {
        text: `${title}: ${text}`,
        cardsV2: [
          {
            cardId: c.event.id,
            card: {
              header: { title, subtitle: text },
              sections: [
                {
                  widgets: [
                    ...fs.map(([k, v]) => ({ decoratedText: { topLabel: k, text: v, wrapText: true } })),
                    { buttonList: { buttons: [{ text: 'Open in Sluice', onClick: { openLink: { url: c.link } } }] } },
                  ],
                },
              ],
            },
          },
        ],
      };
    case 'DISCORD':
      return {
        content: `${title}: ${text}`.slice(0, 2000),
        embeds: [{ title: text.slice(0, 256), url: c.link, timestamp: c.event.time, fields: fs.map(([k, v]) => ({ name: k, value: v.slice(0, 1024), inline: false })) }],
      };
    case 'GENERIC':
      return genericPayload(c);
  }
}
