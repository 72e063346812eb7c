// The GitOps worker's rules: a recorded push delivery becomes one issue per new or changed
// migration file, in version order, made by the system bot. Safe to run twice for one delivery and
// for two deliveries of one push: a path recorded with the same content is "unchanged", and the
// task runner never applies a version twice to a database (it reports drift instead).
import { Access } from '../access/access.js';
import { SluiceError } from '../common/errors.js';
import { createIssue, type IssueDeps } from '../pipeline/issues.js';
import { issueName } from '../pipeline/model.js';
import { databaseName } from '../common/names.js';
import type { SecretStore } from '../common/ports.js';
import { SYSTEM_BOT } from '../pipeline/task-run.js';
import { compareVersions, issueTypeOf, parseMigrationPath, type MigrationFile } from '../common/migrations.js';
import { checksumOf, secretNames, type PushFile, type RejectedFile, type VcsDelivery, type VcsFileReader, type VcsRepo, type VcsWorkerInput } from './vcs.js';

export interface GitOpsDeps extends IssueDeps {
  vcs: VcsRepo;
  secrets: SecretStore;
  reader: VcsFileReader;
  log?: { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void };
}

/** Longer than the worker function's timeout (5 min). */
const STALE_CLAIM_MS = 10 * 60 * 1000;

/** Bytes of one migration file: an issue's statement is at most 256 KiB. */
const MAX_FILE_BYTES = 256 * 1024;

interface Candidate {
  file: PushFile;
  migration: MigrationFile;
}

/** The databases of the project with this name, on active instances, as issue targets. */
async function databasesNamed(deps: GitOpsDeps, project: string, name: string): Promise<string[]> {
  const found: string[] = [];
  let cursor: unknown;
  do {
    const page = await deps.databases.listByProject(project, { limit: 1000, cursor, showDeleted: false }, (d) => d.name === name && d.syncState === 'OK');
    for (const d of page.items) {
      const instance = await deps.instances.get(d.instance);
      if (instance?.state === 'ACTIVE') found.push(databaseName(d.instance, d.name));
    }
    cursor = page.next;
  } while (cursor !== undefined);
  return found.sort();
}

/** The issue this delivery made for the path (another run of it may still be making it: waits up to 10 s). */
async function ownIssue(deps: GitOpsDeps, project: string, path: string, delivery: string): Promise<string | undefined> {
  for (let i = 0; i < 100; i++) {
    const taken = await deps.vcs.getFile(project, path);
    if (taken?.delivery !== delivery) return undefined;
    if (taken.issue) return taken.issue;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const firstLine = (s: string): string => s.split(/\r?\n/, 1)[0] ?? '';

/** Processes one delivery; returns it as finished. Throws only for failures worth a retry (store, provider 5xx). */
export async function processDelivery(deps: GitOpsDeps, input: VcsWorkerInput): Promise<VcsDelivery | undefined> {
  const delivery = await deps.vcs.getDelivery(input.project, input.delivery, input.receiveTime);
  if (!delivery || delivery.status !== 'RECEIVED') return delivery;
  const { project } = delivery;
  const finish = async (fields: Partial<VcsDelivery>): Promise<VcsDelivery> => {
    const done: VcsDelivery = { ...delivery, ...fields };
    await deps.vcs.finishDelivery(done);
    deps.log?.info('vcs delivery processed', { project, delivery: done.id, status: done.status, issues: done.issues, unchanged: done.unchanged.length, rejected: done.rejectedFiles });
    return done;
  };
  const connector = await deps.vcs.getConnector(project);
  if (!connector) return finish({ status: 'FAILED', detail: 'the VCS connector was removed before the push was processed' });
  const bot = await deps.users.get(SYSTEM_BOT);
  if (!bot) throw new Error('the system bot users/1 is missing');
  const token = await deps.secrets.get(secretNames(project).accessToken);
  if (token === undefined) return finish({ status: 'FAILED', detail: 'the connector has no access token; PUT it again with accessToken' });

  const rejected: RejectedFile[] = [];
  const unchanged: string[] = [];
  const issues: string[] = [];
  const candidates: Candidate[] = [];
  for (const file of delivery.files) {
    const parsed = parseMigrationPath(file.path, connector.baseDirectory);
    if ('rejected' in parsed) rejected.push({ path: file.path, reason: parsed.rejected });
    else candidates.push({ file, migration: parsed });
  }
  candidates.sort((a, b) => compareVersions(a.migration.version, b.migration.version) || (a.file.path < b.file.path ? -1 : 1));

  const access = new Access(bot);
  for (const { file, migration } of candidates) {
    let targets: { targets: string[] } | { databaseGroup: string };
    if (migration.target.kind === 'database') {
      const found = await databasesNamed(deps, project, migration.target.database);
      if (found.length === 0) {
        rejected.push({ path: file.path, reason: `projects/${project} has no database named ${migration.target.database} (synced, on an active instance)` });
        continue;
      }
      targets = { targets: found };
    } else {
      const group = await deps.groups.getDatabaseGroup(project, migration.target.group);
      if (!group) {
        rejected.push({ path: file.path, reason: `projects/${project} has no database group ${migration.target.group}` });
        continue;
      }
      targets = { databaseGroup: `projects/${project}/databaseGroups/${migration.target.group}` };
    }
    // Read only once the target is known: an unknown database costs no call to the provider.
    const read = await deps.reader.readFile(connector, token, file.path, delivery.commit);
    if (!read.found) {
      rejected.push({ path: file.path, reason: read.reason });
      continue;
    }
    const { content } = read;
    if (Buffer.byteLength(content, 'utf8') > MAX_FILE_BYTES) {
      rejected.push({ path: file.path, reason: `larger than ${MAX_FILE_BYTES} bytes (256 KiB), the most an issue's statement may be` });
      continue;
    }
    if (content.trim() === '') {
      rejected.push({ path: file.path, reason: 'the file is empty' });
      continue;
    }

    const checksum = checksumOf(content);
    const previous = await deps.vcs.getFile(project, file.path);
    const record = { project, path: file.path, checksum, version: migration.version, delivery: delivery.id, time: deps.now().toISOString() };
    // A claim with no issue after the worker's whole time limit was left by a worker that died.
    if (!(await deps.vcs.claimFile(record, new Date(deps.now().getTime() - STALE_CLAIM_MS).toISOString()))) {
      // Lambda may run one delivery twice: what this very delivery made is still its own outcome.
      const taken = await ownIssue(deps, project, file.path, delivery.id);
      if (taken) issues.push(taken);
      else unchanged.push(file.path);
      continue;
    }
    const changed = previous && previous.checksum !== checksum;
    const description = [
      `GitOps: ${file.path} in ${connector.repository}@${delivery.commit}.`,
      `Commit ${file.commit} by ${file.author}.`,
      `Version ${migration.version}, checksum sha256:${checksum}.`,
      ...(changed ? [`The file changed after ${previous.issue ?? 'an earlier push'} took it up (checksum sha256:${previous.checksum}): where that version is applied, it is reported as drift and not run again.`] : []),
    ].join('\n');
    const title = `V${migration.version} ${migration.description}`.slice(0, 200);
    try {
      const made = await createIssue(deps, access, project, { title, description, type: issueTypeOf(content), statement: content, ...targets }, { migrationVersion: migration.version });
      const name = issueName(project, made.issue.number);
      await deps.vcs.setFileIssue(project, file.path, name);
      issues.push(name);
    } catch (e) {
      await deps.vcs.releaseFile(project, file.path, previous);
      // A refusal of the API (bad target, too many databases) is this file's answer; anything else is retried.
      if (!(e instanceof SluiceError) || e.httpStatus >= 500) throw e;
      rejected.push({ path: file.path, reason: firstLine(e.message) });
    }
  }
  return finish({ status: 'PROCESSED', issues, unchanged, rejectedFiles: rejected });
}
