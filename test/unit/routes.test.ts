import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../../domain/access/roles.js';
import { FAMILIES, ROUTES, gatewayPath, gatewayRoutes, makeMatcher, matchGatewayRoute, matchRoute } from '../../domain/api/routes.js';

describe('matchRoute (the handlers’ matcher)', () => {
  it('tells a custom verb on a resource apart from the resource itself', () => {
    // Act
    const undelete = matchRoute('POST', '/v1/environments/prod:undelete');
    const get = matchRoute('GET', '/v1/environments/prod');

    // Assess
    expect(undelete?.route.operation).toBe('undeleteEnvironment');
    expect(undelete?.params).toEqual({ id: 'prod' });
    expect(get?.route.operation).toBe('getEnvironment');
    expect(get?.params).toEqual({ id: 'prod' });
  });

  it('routes a collection verb, and never reads it as an id', () => {
    // Act
    const reorder = matchRoute('POST', '/v1/environments:reorder');
    const getReorder = matchRoute('GET', '/v1/environments:reorder');
    const create = matchRoute('POST', '/v1/environments');

    // Assess
    expect(reorder?.route.operation).toBe('reorderEnvironments');
    expect(reorder?.params).toEqual({});
    expect(getReorder).toBeUndefined();
    expect(create?.route.operation).toBe('createEnvironment');
  });

  it.each([
    ['POST', '/v1/users/3:explode'],
    ['GET', '/v1/users/3:undelete'],
    ['PUT', '/v1/users/3'],
    ['GET', '/v1/users/3/extra'],
    ['GET', '/v1/users/'],
  ])('matches nothing for %s %s', (method, path) => {
    // Act & Assess
    expect(matchRoute(method, path)).toBeUndefined();
  });

  it('decodes path parameters', () => {
    // Act
    const match = matchRoute('GET', '/v1/users/%33');

    // Assess
    expect(match?.params).toEqual({ id: '3' });
  });
});

describe('makeMatcher', () => {
  it('prefers the template with more literal text over a variable', () => {
    // Prepare
    const match = makeMatcher([
      { method: 'GET', path: '/v1/things/{id}' },
      { method: 'GET', path: '/v1/things/special' },
    ]);

    // Act
    const special = match('GET', '/v1/things/special');
    const other = match('GET', '/v1/things/other');

    // Assess
    expect(special?.route.path).toBe('/v1/things/special');
    expect(other?.params).toEqual({ id: 'other' });
  });

  it('lets a variable span colons only when told to (the gateway’s view)', () => {
    // Prepare
    const strict = makeMatcher([{ method: 'POST', path: '/a/{id}' }]);
    const gateway = makeMatcher([{ method: 'POST', path: '/a/{id}' }], '([^/]+)');

    // Act & Assess
    expect(strict('POST', '/a/x:verb')).toBeUndefined();
    expect(gateway('POST', '/a/x:verb')?.params).toEqual({ id: 'x:verb' });
  });
});

describe('gatewayRoutes', () => {
  it('deploys `{id}:verb` as `{id}`, once per method and path', () => {
    // Act
    const keys = gatewayRoutes().map((r) => `${r.method} ${r.path}`);

    // Assess
    expect(gatewayPath('/v1/users/{id}:undelete')).toBe('/v1/users/{id}');
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain('POST /v1/users/{id}');
    expect(keys).toContain('POST /v1/environments:reorder');
    expect(keys.filter((k) => k.includes('}:'))).toEqual([]);
  });

  it('sends every route of the table to its family, and the family finds the operation', () => {
    for (const r of ROUTES) {
      // Prepare
      const concrete = r.path.replace(/\{\w+\}/g, 'x1');

      // Act
      const viaGateway = matchGatewayRoute(r.method, concrete);
      const inHandler = matchRoute(r.method, concrete);

      // Assess
      expect(viaGateway?.route.family, `${r.method} ${r.path}`).toBe(r.family);
      expect(viaGateway?.route.public, `${r.method} ${r.path}`).toBe(r.permission === null);
      expect(inHandler?.route.operation).toBe(r.operation);
    }
  });

  it('makes only the health check, the OpenAPI document and the VCS webhook (signature-checked) public', () => {
    // Act
    const open = gatewayRoutes().filter((r) => r.public).map((r) => `${r.method} ${r.path}`);

    // Assess
    expect(open.sort()).toEqual(['GET /healthz', 'GET /v1/openapi.json', 'POST /v1/hooks/vcs/{project}']);
  });
});

describe('the route table', () => {
  it('gives every route a family with a handler file, and a known permission or null for public', () => {
    for (const r of ROUTES) {
      // Act & Assess
      expect(FAMILIES).toContain(r.family);
      expect(existsSync(new URL(`../../functions/http/${r.family}.ts`, import.meta.url)), r.family).toBe(true);
      if (r.permission !== null) expect(PERMISSIONS).toContain(r.permission);
    }
  });

  it('uses every permission of the role table, and each operation once', () => {
    // Act
    const used = new Set(ROUTES.map((r) => r.permission).filter((p) => p !== null));
    const operations = ROUTES.map((r) => r.operation);

    // Assess
    expect([...used].sort()).toEqual([...PERMISSIONS].sort());
    expect(new Set(operations).size).toBe(operations.length);
  });

  it('marks every create as taking a body', () => {
    // Act
    const creates = ROUTES.filter((r) => 'create' in r && r.create);

    // Assess
    expect(creates.map((r) => r.operation)).toEqual(['createUser', 'createEnvironment', 'createInstance', 'createProject', 'createIssue', 'rollbackIssue', 'createSheet', 'createDatabaseGroup', 'createTableGroup', 'createWebhook', 'createReviewConfig']);
    for (const r of creates) expect('body' in r && r.body, r.operation).toBe(true);
  });
});
