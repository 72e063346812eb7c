// The audit trail of the HTTP API: every request to a route that is not a GET leaves one entry
// (domain/audit/entry.ts), whoever made it and however it ended. functions/shared/http.ts calls
// this at two points:
//   open()   just before the operation: the entry as it will read on success, handed to the
//            store so that the operation's first write commits it in the same transaction;
//   finish() when the answer is known (middy after / onError, after the error shape is made).
//            If the entry committed with the change says what happened, nothing more is written;
//            otherwise (no write could carry it, a read-only call like the SQL editor, a create
//            whose new name is known only now, a failure) the entry is written now ("right after").
// finish() never fails the request: the answer is decided, and for a change that committed the
// user must not see an error. A write that fails is retried (3 attempts over about a second);
// if all fail, one error line `audit entry not written` carries the whole entry (it holds nothing
// secret), so it can be recovered from the logs and an alarm on the line can page someone.
// Not recorded: requests no route takes (404/405 before routing) and 401s with no principal
// (the gateway's JWT authorizer answers those deployed without invoking a function; a token
// without an email claim is answered alike locally). The webhook's 401 is recorded: its actor
// is the project's VCS principal named by the path, and a forged delivery is what auditors look for.
import type { UserRepo, WorkspaceRepo } from '../../domain/access/ports.js';
import { auditRetentionSeconds } from '../../domain/access/workspace.js';
import { draftEntry, finalEntry, isAudited, sameEntry, type AuditEntry, type AuditOutcome, type AuditedRoute } from '../../domain/audit/entry.js';
import type { AuditJoin, AuditRepo } from '../../domain/audit/ports.js';
import { RESPONSE_OPERATIONS } from '../../domain/audit/detail.js';
import { safeDetail } from '../../domain/audit/redact.js';
import { normalizeEmail } from '../../domain/common/names.js';
import type { User } from '../../domain/access/users.js';
import type { Logger } from './logger.js';

/** Retention is read at most once a minute per container. */
const RETENTION_CACHE_MS = 60_000;
const RETRY_DELAYS_MS = [50, 250, 750];

export interface AuditWiring {
  repo: AuditRepo;
  workspace: WorkspaceRepo;
  users: Pick<UserRepo, 'getByEmail'>;
  /** Delays before each retry of a failed write (tests shorten them). */
  retryDelaysMs?: readonly number[];
}

/** What the HTTP layer knows of a request when it is audited. */
export interface AuditedCall {
  route: AuditedRoute & { family?: string };
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  body: unknown;
  requestId: string;
  started: number;
  principal: User | undefined;
  /** The token's email claim, when there is one. */
  email: string | undefined;
  sourceIp: string | undefined;
  log: Logger;
}

/** One request's entry while its operation runs. */
export interface AuditSession {
  draft: AuditEntry;
  expireAt: Date;
  join: AuditJoin;
  notes: Record<string, unknown>;
}

export class AuditTrail {
  private retention: { seconds: number; readAt: number } | undefined;
  /** Entries that could not be written (each also logged at error level). */
  failures = 0;

  constructor(private readonly wiring: AuditWiring) {}

  /** Before the operation: the draft entry, joined to its first write. Undefined for a GET. */
  async open(call: AuditedCall): Promise<AuditSession | undefined> {
    if (!isAudited(call.route)) return undefined;
    const draft = await this.draft(call);
    const expireAt = await this.expiry(call, draft);
    return { draft, expireAt, join: this.wiring.repo.join(draft, expireAt), notes: {} };
  }

  /** After the answer: writes the entry unless the one committed with the change says it all. Never throws. */
  async finish(call: AuditedCall, session: AuditSession | undefined, outcome: AuditOutcome): Promise<void> {
    if (!isAudited(call.route)) return;
    let entry: AuditEntry | undefined;
    try {
      if (outcome.code === 401 && !call.principal && call.route.family !== 'hooks') return;
      const draft = session?.draft ?? (await this.draft(call));
      entry = finalEntry(draft, { ...outcome, notes: { ...outcome.notes, ...session?.notes } });
      // A new retention applies from the next entry in this container (others re-read within a minute).
      if (entry.method === 'updateWorkspace' && outcome.code < 300) this.retention = undefined;
      if (session?.join.joined && sameEntry(session.join.joined, entry)) return;
      const expireAt = session?.expireAt ?? (await this.expiry(call, entry));
      await this.write(entry, expireAt, call.log);
    } catch (e) {
      this.failures++;
      call.log.error('audit entry not written', { entry, error: (e as Error)?.name, message: (e as Error)?.message });
    }
  }

  private async write(entry: AuditEntry, expireAt: Date, log: Logger): Promise<void> {
    const delays = this.wiring.retryDelaysMs ?? RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.wiring.repo.record(entry, expireAt);
        return;
      } catch (e) {
        if (attempt >= delays.length) throw e;
        log.warn('audit entry write failed; retrying', { requestId: entry.requestId, attempt: attempt + 1, error: (e as Error)?.name });
        await new Promise((r) => setTimeout(r, delays[attempt]));
      }
    }
  }

  /** Whether finish() needs the answer's body (a create's new name, or an operation whose answer says what it did). */
  static wantsResponse(route: AuditedRoute): boolean {
    return isAudited(route) && (route.create === true || RESPONSE_OPERATIONS.has(route.operation));
  }

  private async draft(call: AuditedCall): Promise<AuditEntry> {
    const actor = await this.actor(call);
    const draft = draftEntry({ ...call, time: new Date(call.started), actor });
    // Someone signed in whom Sluice does not know (or no longer): the email the token claimed.
    if (actor === 'anonymous' && call.email) draft.detail = safeDetail({ ...draft.detail, signedInAs: call.email });
    return draft;
  }

  /** users/N; the webhook's `vcs:<project>`; the token's user when the request failed before sign-in; else anonymous. */
  private async actor(call: AuditedCall): Promise<string> {
    if (call.principal) return `users/${call.principal.id}`;
    // The webhook's principal is the project its path names (a path naming no valid project: anonymous).
    if (call.route.family === 'hooks') return /^[a-z][a-z0-9-]{1,62}$/.test(call.params.project ?? '') ? `vcs:${call.params.project}` : 'anonymous';
    if (call.email) {
      const user = await this.wiring.users.getByEmail(normalizeEmail(call.email)).catch(() => undefined);
      if (user && user.state === 'ACTIVE' && user.userType === 'USER') return `users/${user.id}`;
    }
    return 'anonymous';
  }

  /** TTL from the workspace's auditRetention; the default when the workspace cannot be read. */
  private async expiry(call: AuditedCall, entry: AuditEntry): Promise<Date> {
    const now = Date.now();
    if (!this.retention || now - this.retention.readAt > RETENTION_CACHE_MS) {
      try {
        this.retention = { seconds: auditRetentionSeconds(await this.wiring.workspace.get()), readAt: now };
      } catch (e) {
        call.log.warn('audit retention unread; using the default', { error: (e as Error)?.name });
        return new Date(Date.parse(entry.time) + auditRetentionSeconds(undefined) * 1000);
      }
    }
    return new Date(Date.parse(entry.time) + this.retention.seconds * 1000);
  }
}

/** What an operation may add to its entry while it runs (a sheet's statement). Scrubbed like the rest. */
export const noteOn = (session: AuditSession | undefined) => (detail: Record<string, unknown>): void => {
  if (session) Object.assign(session.notes, safeDetail(detail));
};
