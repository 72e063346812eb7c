// `sluice check FILE...`: POST /v1/sql:check for each file (statement as in the file, so lines and
// columns are the file's), printed as text, JSON or GitHub Actions annotations. Exit 1 on any ERROR.
import { readFile } from 'node:fs/promises';
import { EXIT, UsageError, type ExitCode } from '../errors.js';
import { databaseRef, envId, type Ctx } from '../context.js';
import type { Advice } from '../types.js';

export type CheckFormat = 'text' | 'json' | 'github';

export interface CheckOptions {
  database?: string;
  engine?: string;
  environment?: string;
  format?: CheckFormat;
}

export interface FileResult {
  file: string;
  advices: Advice[];
}

const ENGINES: Record<string, string> = { postgres: 'POSTGRES', postgresql: 'POSTGRES', pg: 'POSTGRES', mysql: 'MYSQL', mariadb: 'MYSQL' };

/** The request body for one statement; the scope options are checked once, before any call. */
export function checkScope(o: CheckOptions): { database?: string; engine?: string; environment?: string } {
  if (o.database !== undefined && o.engine !== undefined) throw new UsageError('give --database or --engine, not both');
  if (o.database !== undefined) {
    if (o.environment !== undefined) throw new UsageError('--environment goes with --engine (a database brings its own environment)');
    return { database: databaseRef(o.database, '--database') };
  }
  if (o.engine === undefined) throw new UsageError('give --database <instances/i/databases/d> or --engine <postgres|mysql>');
  const engine = ENGINES[o.engine.toLowerCase()];
  if (!engine) throw new UsageError(`--engine: ${JSON.stringify(o.engine)} is not postgres or mysql`);
  return { engine, ...(o.environment !== undefined ? { environment: `environments/${envId(o.environment, '--environment')}` } : {}) };
}

const position = (a: Advice): string => (a.line ? `${a.line}:${a.column ?? 1}` : '1:1');

/** `file:line:col: ERROR rule: title: content` (the shape compilers use, so editors can jump to it). */
export function formatText(r: FileResult): string[] {
  if (r.advices.length === 0) return [`${r.file}: no advice`];
  return r.advices.map((a) => `${r.file}:${position(a)}: ${a.status} ${a.rule}: ${message(a)}`);
}

const message = (a: Advice): string => (a.content && a.content !== a.title ? `${a.title}: ${a.content}` : a.title || a.content);

// GitHub's workflow-command escaping: data escapes % CR LF; property values also : and ,.
const escapeData = (s: string): string => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string): string => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** `::error file=F,line=L,col=C,title=RULE::message`: GitHub Actions shows each on the pull request's diff. */
export function formatGithub(r: FileResult): string[] {
  return r.advices.map((a) => {
    const props = [`file=${escapeProperty(r.file)}`, `line=${a.line ?? 1}`, `col=${a.column ?? 1}`, `title=${escapeProperty(a.rule)}`].join(',');
    return `::${a.status === 'ERROR' ? 'error' : 'warning'} ${props}::${escapeData(message(a))}`;
  });
}

export function summary(results: FileResult[]): string {
  const all = results.flatMap((r) => r.advices);
  const errors = all.filter((a) => a.status === 'ERROR').length;
  const warnings = all.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(results.length, 'file')}`;
}

export async function check(ctx: Ctx, files: string[], o: CheckOptions): Promise<ExitCode> {
  const scope = checkScope(o);
  const format: CheckFormat = ctx.json ? 'json' : (o.format ?? 'text');
  const api = ctx.api();
  const results: FileResult[] = [];
  for (const file of files) {
    let statement: string;
    try {
      statement = await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    const answer = await api.post<{ advices?: Advice[] }>('/v1/sql:check', { statement, ...scope });
    const result = { file, ...answer, advices: answer.advices ?? [] };
    results.push(result);
    if (format === 'text') for (const line of formatText(result)) ctx.io.out.write(line + '\n');
    if (format === 'github') for (const line of formatGithub(result)) ctx.io.out.write(line + '\n');
  }
  if (format === 'json') ctx.printJson({ files: results });
  else if (format === 'text') ctx.io.out.write(summary(results) + '\n');
  else ctx.io.err.write(`sluice check: ${summary(results)}\n`);
  return results.some((r) => r.advices.some((a) => a.status === 'ERROR')) ? EXIT.FAILED : EXIT.OK;
}
