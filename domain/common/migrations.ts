// Migration files and versions: the one set of rules the server (GitOps, issue planning, the
// runner's ordering) and the `sluice migrate` CLI share. Pure, and imports nothing, so the CLI may
// use it without pulling in the server (.dependency-cruiser.cjs, rule cli-shared-only).
//   {base}/{database}/V{version}__{description}.sql   one database of the project, by name
//   {base}/@{group}/V{version}__{description}.sql     a database group of the project

export type MigrationTarget = { kind: 'database'; database: string } | { kind: 'group'; group: string };

export interface MigrationFile {
  /** The path as given (GitOps: from the repository root; the CLI: relative to --dir, with `/`). */
  path: string;
  target: MigrationTarget;
  /** Canonical: numeric segments joined by dots, leading zeros dropped (`V001_2` → `1.2`). */
  version: string;
  description: string;
}

const FILE_NAME = /^V(\d+(?:[._]\d+)*)__([^/]+)\.sql$/;
const DATABASE_DIR = /^[^@/][^/]{0,127}$/;
const GROUP_DIR = /^@([a-z][a-z0-9-]{1,62})$/;

/** `{base}/{database}/V{version}__{description}.sql` or `{base}/@{group}/V…`: the file, or why not. */
export function parseMigrationPath(path: string, baseDirectory = ''): MigrationFile | { rejected: string } {
  const rest = baseDirectory === '' ? path : path.slice(baseDirectory.length + 1);
  const parts = rest.split('/');
  const base = baseDirectory ? `${baseDirectory}/` : '';
  const expect = `expected ${base}{database}/V{version}__{description}.sql or ${base}@{databaseGroup}/V{version}__{description}.sql`;
  if (parts.length !== 2) return { rejected: `not a migration file: ${expect}` };
  const [dir, name] = parts as [string, string];
  const m = FILE_NAME.exec(name);
  if (!m) return { rejected: `file name does not follow V{version}__{description}.sql (${expect})` };
  const version = m[1]!.split(/[._]/).map((s) => s.replace(/^0+(?=\d)/, '')).join('.');
  const description = m[2]!.replace(/_/g, ' ').trim();
  if (!description) return { rejected: 'the description after V{version}__ is empty' };
  const g = GROUP_DIR.exec(dir);
  if (g) return { path, target: { kind: 'group', group: g[1]! }, version, description };
  if (dir.startsWith('@')) return { rejected: `${dir} is not a database group id (^[a-z][a-z0-9-]{1,62}$ after @)` };
  if (!DATABASE_DIR.test(dir)) return { rejected: `${dir} is not a database name` };
  return { path, target: { kind: 'database', database: dir }, version, description };
}

/** Canonical versions, numeric segment by segment: 1.10 after 1.9, 2 after 1.9, 1.2 after 1. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? '';
    const q = y[i] ?? '';
    if (p === q) continue;
    if (p === '') return -1;
    if (q === '') return 1;
    return p.length !== q.length ? p.length - q.length : p < q ? -1 : 1;
  }
  return 0;
}

/**
 * A canonical version as a string that sorts like compareVersions (for a sort key): each segment
 * prefixed with its length in two digits (segments have at most 18 digits), `.` between them.
 */
export const versionSortKey = (version: string): string =>
  version.split('.').map((s) => `${String(s.length).padStart(2, '0')}${s}`).join('.');

/** A first line `-- sluice:type=data` makes a data update; anything else is a schema update. */
export function issueTypeOf(content: string): 'DATABASE_DATA_UPDATE' | 'DATABASE_SCHEMA_UPDATE' {
  const first = content.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return /^--\s*sluice:type\s*=\s*data\s*$/i.test(first) ? 'DATABASE_DATA_UPDATE' : 'DATABASE_SCHEMA_UPDATE';
}
