// The synced schema as a review reads it: read from the store through the schema port (a database
// never synced is a WARNING that says so, never an ERROR), and changed statement by statement by
// the script itself.
import { describe, expect, it } from 'vitest';
import { review, type RuleConfig } from '../../../domain/review/index.js';
import { recordedReviewSchema } from '../../../domain/review/schema-catalog.js';
import type { DatabaseSchema } from '../../../domain/schema/model.js';
import type { SchemaHead } from '../../../domain/schema/ports.js';
import { modelOf } from './cases.js';

const RULES: RuleConfig[] = ['table.no-duplicate', 'table.must-exist', 'column.no-duplicate', 'column.must-exist'].map((type) => ({ type, level: 'ERROR' }));
const EMPLOYEES = { employees: ['id integer not null', 'email text'] };

/** A schema store holding one database's recorded schema, or none. */
const store = (model?: DatabaseSchema) => ({
  head: async (): Promise<SchemaHead | undefined> => (model ? { checksum: 'c1', syncTime: '2026-12-06T00:00:00Z' } : undefined),
  snapshot: async () => model,
});

describe('the schema a review reads', () => {
  it('of a database never synced: the rules that need it are skipped with one WARNING naming the database, never an ERROR', async () => {
    // Arrange
    const found = await recordedReviewSchema(store(), 'pg', 'hr');
    // Act
    const advices = await review({ engine: 'POSTGRES', statement: 'ALTER TABLE employees ADD COLUMN email text', rules: [...RULES, { type: 'statement.where.require', level: 'ERROR' }], ...found });
    // Assess
    expect(advices).toEqual([{ status: 'WARNING', rule: 'schema.unknown', title: expect.any(String), content: expect.stringMatching(/instances\/pg\/databases\/hr has no synced schema.*table\.no-duplicate, table\.must-exist, column\.no-duplicate, column\.must-exist/), line: 1, column: 1 }]);
  });

  it('of a synced database: its recorded model, checked statement by statement', async () => {
    // Arrange
    const found = await recordedReviewSchema(store(modelOf({ engine: 'POSTGRES', schema: EMPLOYEES })), 'pg', 'hr');
    const script = [
      'CREATE TABLE badges (id int PRIMARY KEY)', // 1: new
      'ALTER TABLE badges ADD COLUMN label text', // 2: badges exists now
      'ALTER TABLE badges DROP COLUMN label', // 3: label exists now
      'ALTER TABLE badges DROP COLUMN label', // 4: gone since 3
      'DROP TABLE badges', // 5
      'ALTER TABLE badges ADD COLUMN label text', // 6: gone since 5
      'ALTER TABLE employees ADD COLUMN email text', // 7: synced
    ].join(';\n');
    // Act
    const advices = await review({ engine: 'POSTGRES', statement: script, rules: RULES, ...found });
    // Assess
    expect(advices.map((a) => `${a.rule} ${a.line}:${a.column}`)).toEqual(['column.must-exist 4:1', 'table.must-exist 6:1', 'column.no-duplicate 7:34']);
  });

  it('after a MySQL DDL statement the grammar cannot read, names are unknown: nothing is claimed about them', async () => {
    // Arrange: ADD COLUMN IF NOT EXISTS is MariaDB's, not in the MySQL grammar.
    const schema = { model: modelOf({ engine: 'MYSQL', schema: EMPLOYEES }), database: 'hr' };
    const script = 'ALTER TABLE ghost ADD COLUMN a int;\nALTER TABLE employees ADD COLUMN IF NOT EXISTS b int;\nALTER TABLE ghost ADD COLUMN a int';
    // Act
    const advices = await review({ engine: 'MYSQL', statement: script, rules: RULES, schema });
    // Assess
    expect(advices.map((a) => `${a.rule} ${a.line}:${a.column}`)).toEqual(['table.must-exist 1:1', 'syntax.unparsed 2:1']);
  });
});
