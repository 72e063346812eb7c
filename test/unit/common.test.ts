import { describe, expect, it } from 'vitest';
import { checkEtag, etagOf, parse, parseBool, parsePageSize, resolveUpdateMask } from '../../domain/common/values.js';
import { EnvironmentCreate } from '../../domain/inventory/environments.js';
import { InvalidArgumentError, SluiceError } from '../../domain/common/errors.js';
import { UserCreate } from '../../domain/access/users.js';

/** Runs `fn`, expecting a SluiceError, and returns it for assertions. */
function failure(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SluiceError) return e;
    throw e;
  }
  throw new Error('expected a SluiceError');
}

describe('parse', () => {
  it('names a missing field as required, in the message and the details', () => {
    // Prepare
    const body = { id: 'prod' };

    // Act
    const e = failure(() => parse(EnvironmentCreate, body));

    // Assess
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.httpStatus).toBe(400);
    expect(e.message).toBe('title: required');
    expect(e.details).toEqual([{ field: 'title', description: 'required' }]);
  });

  it('tells a wrong type apart from a missing field, and counts the other problems', () => {
    // Act
    const e = failure(() => parse(EnvironmentCreate, { id: 'prod', title: 5, order: 1.5 }));

    // Assess
    expect(e.details).toEqual([
      { field: 'title', description: 'must be string' },
      { field: 'order', description: 'must be int' },
    ]);
    expect(e.message).toBe('title: must be string (and 1 more)');
  });

  it('reports each unknown field by its full path, nested ones included', () => {
    // Act
    const e = failure(() => parse(EnvironmentCreate, { id: 'prod', title: 'Prod', colour: 'red', rolloutPolicy: { requireApproval: true, quorum: 2 } }));

    // Assess
    expect(e.details).toHaveLength(2);
    expect(e.details).toEqual(
      expect.arrayContaining([
        { field: 'colour', description: 'unknown field' },
        { field: 'rolloutPolicy.quorum', description: 'unknown field' },
      ]),
    );
  });

  it('shows the pattern a user-chosen id must match', () => {
    // Act
    const e = failure(() => parse(EnvironmentCreate, { id: 'Prod!', title: 'Prod' }));

    // Assess
    expect(e.message).toBe('id: must match ^[a-z][a-z0-9-]{1,62}$');
    expect(e.details).toEqual([{ field: 'id', description: 'must match ^[a-z][a-z0-9-]{1,62}$' }]);
  });

  it("uses a schema's own message for a pattern instead of the regex", () => {
    // Act
    const e = failure(() => parse(UserCreate, { email: 'not-an-email' }));

    // Assess
    expect(e.message).toBe('email: must be an email address');
  });

  it('lists the allowed values of an enum', () => {
    // Act
    const e = failure(() => parse(UserCreate, { email: 'a@example.com', role: 'root' }));

    // Assess
    expect(e.message).toBe('role: must be one of "workspaceAdmin", "workspaceDBA", "workspaceMember"');
    expect(e.details).toEqual([{ field: 'role', description: 'must be one of "workspaceAdmin", "workspaceDBA", "workspaceMember"' }]);
  });

  it('blames the body itself when it is not an object, and honours a prefix', () => {
    // Act
    const notObject = failure(() => parse(EnvironmentCreate, 'prod'));
    const prefixed = failure(() => parse(UserCreate, {}, 'user'));

    // Assess
    expect(notObject.details).toEqual([{ field: '(body)', description: 'must be object' }]);
    expect(prefixed.details).toEqual([{ field: 'user.email', description: 'required' }]);
  });

  it('returns the parsed value when the input is valid', () => {
    // Act
    const value = parse(EnvironmentCreate, { id: 'prod', title: 'Prod', order: 2 });

    // Assess
    expect(value).toEqual({ id: 'prod', title: 'Prod', order: 2 });
  });
});

describe('resolveUpdateMask', () => {
  const mutable = ['title', 'rolloutPolicy', 'rolloutPolicy.requireApproval'] as const;

  it('updates exactly the fields the mask names, ignoring the rest of the body', () => {
    // Prepare
    const body = { title: 'A', rolloutPolicy: { requireApproval: true } };

    // Act
    const one = resolveUpdateMask('title', body, mutable);
    const two = resolveUpdateMask(' title , rolloutPolicy ', body, mutable);

    // Assess
    expect(one).toEqual(['title']);
    expect(two).toEqual(['title', 'rolloutPolicy']);
  });

  it('takes every mutable field for "*", each of which the body must then hold', () => {
    // Act
    const full = resolveUpdateMask('*', { title: 'A', rolloutPolicy: {} }, mutable);
    const partial = failure(() => resolveUpdateMask('*', { title: 'A' }, mutable));

    // Assess
    expect(full).toEqual(['title', 'rolloutPolicy']);
    expect(partial.details).toEqual([{ field: 'rolloutPolicy', description: 'required when updateMask is *' }]);
  });

  it('without a mask, takes the mutable fields present in the body', () => {
    // Act
    const some = resolveUpdateMask(undefined, { title: 'A', name: 'environments/x', etag: 'e' }, mutable);
    const none = resolveUpdateMask(undefined, {}, mutable);

    // Assess
    expect(some).toEqual(['title']);
    expect(none).toEqual([]);
  });

  it('refuses a field outside the mutable set with a 400 on updateMask', () => {
    // Act
    const e = failure(() => resolveUpdateMask('title,createTime', { title: 'A', createTime: 'x' }, mutable));

    // Assess
    expect(e.httpStatus).toBe(400);
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details).toEqual([{ field: 'updateMask', description: 'createTime is not mutable' }]);
    expect(e.message).toContain('mutable: title, rolloutPolicy');
  });

  it('accepts a nested path of a mutable field and updates its top-level field', () => {
    // Act
    const fields = resolveUpdateMask('rolloutPolicy.requireApproval', { rolloutPolicy: { requireApproval: true } }, mutable);

    // Assess
    expect(fields).toEqual(['rolloutPolicy']);
  });

  it('refuses a nested path that is not itself listed as mutable', () => {
    // Act
    const e = failure(() => resolveUpdateMask('rolloutPolicy.foo', { rolloutPolicy: {} }, mutable));

    // Assess
    expect(e.details).toEqual([{ field: 'updateMask', description: 'rolloutPolicy.foo is not mutable' }]);
  });

  it('refuses a mask naming a field the body lacks, and an empty mask', () => {
    // Act
    const missing = failure(() => resolveUpdateMask('title', {}, mutable));
    const empty = failure(() => resolveUpdateMask(' , ', { title: 'A' }, mutable));

    // Assess
    expect(missing.details).toEqual([{ field: 'title', description: 'named in updateMask but missing from the body' }]);
    expect(empty.details).toEqual([{ field: 'updateMask', description: 'must name at least one field' }]);
  });
});

describe('checkEtag', () => {
  const name = 'environments/prod';
  const current = etagOf(name, 3);

  it('passes when the etag matches, is "*", or is absent', () => {
    // Act & Assess
    expect(() => checkEtag(name, 3, current)).not.toThrow();
    expect(() => checkEtag(name, 3, '*')).not.toThrow();
    expect(() => checkEtag(name, 3, undefined, undefined)).not.toThrow();
  });

  it('accepts the quoted and weak forms of the current etag', () => {
    // Act & Assess
    expect(() => checkEtag(name, 3, `"${current}"`)).not.toThrow();
    expect(() => checkEtag(name, 3, `W/"${current}"`)).not.toThrow();
  });

  it('refuses an etag from an earlier version with 409 ABORTED', () => {
    // Act
    const e = failure(() => checkEtag(name, 3, etagOf(name, 2)));

    // Assess
    expect(e.httpStatus).toBe(409);
    expect(e.status).toBe('ABORTED');
  });

  it("refuses when either the header or the body etag is stale, or is another resource's", () => {
    // Act
    const staleBody = failure(() => checkEtag(name, 3, current, `"${etagOf(name, 2)}"`));
    const otherResource = failure(() => checkEtag(name, 3, etagOf('environments/test', 3)));

    // Assess
    expect(staleBody.status).toBe('ABORTED');
    expect(otherResource.status).toBe('ABORTED');
    expect(etagOf(name, 4)).not.toBe(current);
  });
});

describe('parsePageSize and parseBool', () => {
  it.each([
    [undefined, 50],
    ['', 50],
    ['0', 50],
    ['7', 7],
    ['1000', 1000],
    ['5000', 1000],
  ])('reads pageSize=%j as %i', (raw, size) => {
    // Act & Assess
    expect(parsePageSize(raw)).toBe(size);
  });

  it.each(['-1', '2.5', 'ten', '1e3', '99999999'])('refuses pageSize=%s with a 400 on pageSize', (raw) => {
    // Act
    const e = failure(() => parsePageSize(raw));

    // Assess
    expect(e.details).toEqual([{ field: 'pageSize', description: 'must be a non-negative integer' }]);
  });

  it('reads true and false only', () => {
    // Act & Assess
    expect(parseBool('true', 'showDeleted')).toBe(true);
    expect(parseBool('false', 'showDeleted')).toBe(false);
    expect(parseBool(undefined, 'showDeleted')).toBe(false);
    expect(failure(() => parseBool('yes', 'showDeleted')).details).toEqual([{ field: 'showDeleted', description: 'must be true or false' }]);
  });
});
