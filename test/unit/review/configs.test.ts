// Review configs, the pure part: which rules apply to a target, and what a config may hold.
import { describe, expect, it } from 'vitest';
import { createReviewConfig, rulesFor, updateReviewConfig, type ReviewConfig, type ReviewConfigDeps } from '../../../domain/review/configs.js';
import { checkRuleConfigs } from '../../../domain/review/catalog.js';

const config = (id: string, resources: string[], rules: ReviewConfig['rules'], enabled = true): ReviewConfig => ({
  id, title: id, enabled, rules, resources, createTime: '2026-12-01T00:00:00Z', updateTime: '2026-12-01T00:00:00Z', version: 1,
});

function deps(): ReviewConfigDeps & { stored: Map<string, ReviewConfig> } {
  const stored = new Map<string, ReviewConfig>();
  return {
    stored,
    reviewConfigs: {
      get: async (id) => stored.get(id),
      listAll: async () => [...stored.values()],
      create: async (c) => {
        const made = { ...c, version: 1 };
        stored.set(c.id, made);
        return made;
      },
      update: async (next) => {
        const made = { ...next, version: next.version + 1 };
        stored.set(next.id, made);
        return made;
      },
      delete: async (id) => void stored.delete(id),
    },
    exists: { environment: async (id) => ['test', 'prod'].includes(id), project: async (id) => id === 'shop' },
    now: () => new Date('2026-12-06T00:00:00Z'),
    checkRuleConfigs,
  };
}

describe('rulesFor', () => {
  const all = [
    config('a', ['environments/prod'], [{ type: 'statement.where.require', level: 'WARNING' }, { type: 'table.require-pk', level: 'ERROR' }]),
    config('b', ['projects/shop'], [{ type: 'statement.where.require', level: 'ERROR' }]),
    config('c', ['environments/test'], [{ type: 'naming.table', level: 'WARNING', payload: { format: '^[a-z]+$' } }]),
    config('off', ['environments/prod'], [{ type: 'table.no-foreign-key', level: 'ERROR' }], false),
  ];

  it('takes every enabled config attached to the environment or the project, a rule twice at the stricter level', () => {
    expect(rulesFor(all, 'prod', 'shop')).toEqual([{ type: 'statement.where.require', level: 'ERROR' }, { type: 'table.require-pk', level: 'ERROR' }]);
  });

  it('takes nothing from configs attached elsewhere or disabled', () => {
    expect(rulesFor(all, 'prod', 'hr').map((r) => r.type)).toEqual(['statement.where.require', 'table.require-pk']);
    expect(rulesFor(all, 'staging', 'hr')).toEqual([]);
    expect(rulesFor(all, undefined, undefined)).toEqual([]);
  });
});

describe('createReviewConfig / updateReviewConfig', () => {
  it('refuses unknown rule types, bad payloads, a rule twice and unknown resources, writing nothing', async () => {
    const d = deps();
    const cases: [unknown, string][] = [
      [{ id: 'cfg', rules: [{ type: 'nope', level: 'ERROR' }] }, 'rules[0].type'],
      [{ id: 'cfg', rules: [{ type: 'statement.affected-row-limit', level: 'ERROR', payload: { max: -1 } }] }, 'rules[0].payload'],
      [{ id: 'cfg', rules: [{ type: 'table.require-pk', level: 'ERROR', payload: { x: 1 } }] }, 'rules[0].payload'],
      [{ id: 'cfg', rules: [{ type: 'table.require-pk', level: 'ERROR' }, { type: 'table.require-pk', level: 'WARNING' }] }, 'rules[1].type'],
      [{ id: 'cfg', rules: [{ type: 'table.require-pk', level: 'FATAL' }] }, 'rules.0.level'],
      [{ id: 'cfg', rules: [], resources: ['environments/nowhere'] }, 'resources[0]'],
      [{ id: 'cfg', rules: [], resources: ['instances/pg'] }, 'resources.0'],
    ];
    for (const [body, field] of cases) {
      const e = await createReviewConfig(d, body).then(() => undefined, (x: unknown) => x as { httpStatus: number; details: { field?: string }[] });
      expect(e?.httpStatus, JSON.stringify(body)).toBe(400);
      expect(e!.details.map((x) => x.field), JSON.stringify(body)).toContain(field);
    }
    expect(d.stored.size).toBe(0);
  });

  it('creates with defaults, then updates only the masked fields, checked again', async () => {
    const d = deps();
    const made = await createReviewConfig(d, { id: 'guard', rules: [{ type: 'statement.where.require', level: 'ERROR' }], resources: ['environments/prod'] });
    expect(made).toMatchObject({ id: 'guard', title: 'guard', enabled: true, version: 1 });
    await expect(createReviewConfig(d, { id: 'guard', rules: [] })).rejects.toMatchObject({ httpStatus: 409 });
    const next = await updateReviewConfig(d, 'guard', { resources: ['projects/shop'], enabled: false }, 'resources', undefined);
    expect(next).toMatchObject({ resources: ['projects/shop'], enabled: true, version: 2 });
    await expect(updateReviewConfig(d, 'guard', { rules: [{ type: 'nope', level: 'ERROR' }] }, 'rules', undefined)).rejects.toMatchObject({ httpStatus: 400 });
    expect(d.stored.get('guard')!.rules).toEqual([{ type: 'statement.where.require', level: 'ERROR' }]);
  });
});
