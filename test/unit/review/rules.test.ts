// Each rule against statements that must and must not trip it (cases.ts), on each engine it claims.
import { describe, expect, it } from 'vitest';
import { review, reviewRuleCatalog, type Level } from '../../../domain/review/index.js';
import { CASES, modelOf, type Case } from './cases.js';

const levelOf = (type: string): Level => reviewRuleCatalog().find((r) => r.type === type)!.defaultLevel;
const label = (k: Case) => `${k.engine}: ${k.sql.replace(/\s+/g, ' ').slice(0, 90)}${k.at.length ? ` → ${k.at.join(', ')}` : ' → silent'}${k.why ? ` (${k.why})` : ''}`;

describe.each(Object.keys(CASES))('%s', (type) => {
  it.each(CASES[type]!.map((k) => [label(k), k] as const))('%s', async (_, k) => {
    // Arrange
    const level = levelOf(type);
    // Act
    const advices = await review({
      engine: k.engine,
      statement: k.sql,
      rules: [{ type, level, ...(k.payload !== undefined ? { payload: k.payload } : {}) }],
      ...(k.affectedRows !== undefined ? { affectedRows: () => k.affectedRows } : {}),
      ...(k.schema || k.views ? { schema: { model: modelOf(k), database: 'shop' } } : {}),
    });
    // Assess
    const mine = advices.filter((a) => a.rule === type);
    expect(mine.map((a) => `${a.line}:${a.column}`)).toEqual(k.at);
    expect(advices.filter((a) => a.rule !== type && a.rule !== 'syntax.unparsed')).toEqual([]);
    expect(advices.filter((a) => a.rule === 'syntax.unparsed')).toEqual([]);
    for (const a of mine) expect(a).toMatchObject({ status: level, title: expect.any(String), content: expect.any(String) });
  });
});
