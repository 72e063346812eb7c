// The task runner's pure rules: input parsing, names, identifiers, change-history fields.
import { describe, expect, it } from 'vitest';
import { changeHistoryId, changeType, changeVersion, leaseMs, parseRunTaskInput, taskKey, taskRunName } from '../../domain/pipeline/task-run.js';
import { createDatabaseStatement, quoteIdent } from '../../domain/inventory/instances.js';
import { sha256 } from '../../domain/common/hash.js';

describe('task-run rules', () => {
  it('parses the runTask input, and refuses anything else as a wiring bug', () => {
    // Act
    const ok = parseRunTaskInput({ issue: 'projects/shop/issues/12', task: '3' });
    const bad = [{ issue: 'projects/shop/issues/0', task: '1' }, { issue: 'projects/shop/issues/1', task: 'x' }, { issue: 'shop/1', task: '1' }, {}];

    // Assess
    expect(ok).toEqual({ project: 'shop', issue: 12, task: 3 });
    for (const input of bad) expect(() => parseRunTaskInput(input)).toThrow(/^runTask expects/);
  });

  it('names the marker key, the task run, and the change-history fields', () => {
    // Prepare
    const time = new Date('2026-11-26T01:02:03.456Z');

    // Act & Assess
    expect(taskKey('shop', 12, 3)).toBe('projects/shop/issues/12/tasks/3');
    expect(taskKey('shop', 12, 3, '2026-11-26T01:00:00.000Z')).toBe('projects/shop/issues/12/tasks/3@2026-11-26T01:00:00.000Z');
    expect(taskRunName({ project: 'shop', issue: 12, stage: 'prod', id: 3 }, 7)).toBe('projects/shop/issues/12/stages/prod/tasks/3/taskRuns/7');
    expect(changeHistoryId(time, 'shop', 12, 3, 2)).toBe('20261126010203456-shop-12-3-2');
    expect(changeVersion(time)).toBe('20261126010203');
    expect([changeType('DATABASE_SCHEMA_UPDATE'), changeType('DATABASE_CREATE'), changeType('DATABASE_DATA_UPDATE')]).toEqual(['MIGRATE', 'MIGRATE', 'DATA']);
    expect(sha256('SELECT 1')).toMatch(/^[0-9a-f]{64}$/);
    expect(leaseMs(300_000)).toBe(420_000);
  });

  it('quotes identifiers for each engine, so a database name cannot break out of CREATE DATABASE', () => {
    // Act & Assess
    expect(quoteIdent('POSTGRES', 'we"ird')).toBe('"we""ird"');
    expect(quoteIdent('MYSQL', 'we`ird')).toBe('`we``ird`');
    expect(createDatabaseStatement('POSTGRES', 'shop')).toBe('CREATE DATABASE "shop"');
    expect(createDatabaseStatement('MYSQL', 'shop')).toBe('CREATE DATABASE `shop`');
  });
});
