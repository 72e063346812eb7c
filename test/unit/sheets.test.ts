// Who sees and who changes a sheet, and how content is cut into chunks and joined back.
import { describe, expect, it } from 'vitest';
import { Access } from '../../domain/access/access.js';
import type { Project } from '../../domain/inventory/projects.js';
import type { ProjectRole, WorkspaceRole } from '../../domain/access/roles.js';
import { canChangeSheet, canSeeSheet, parseSheetName, type Visibility } from '../../domain/sheets/sheets.js';
import type { User } from '../../domain/access/users.js';
import { CHUNK_BYTES, chunkContent, joinChunks } from '../../functions/adapters/dynamo/sheets.js';

const T = '2026-11-25T10:00:00Z';
const user = (id: number, role: WorkspaceRole = 'workspaceMember'): User => ({
  id, email: `u${id}@x.test`, title: `U${id}`, role, userType: 'USER', state: 'ACTIVE', createTime: T, updateTime: T, version: 1,
});
const project = (bindings: { role: ProjectRole; members: number[] }[]): Project => ({
  id: 'shop', title: 'Shop', state: 'ACTIVE', createTime: T, updateTime: T, version: 1,
  bindings: bindings.map((b) => ({ role: b.role, members: b.members.map((m) => `users/${m}`) })),
});
// users/2 made the sheet; 3 is a developer, 4 a viewer, 5 the owner, 6 nobody there, 7 a DBA.
const SHOP = project([{ role: 'projectDeveloper', members: [2, 3] }, { role: 'projectViewer', members: [4] }, { role: 'projectOwner', members: [5] }]);
const CALLERS = { creator: user(2), developer: user(3), viewer: user(4), owner: user(5), outsider: user(6), dba: user(7, 'workspaceDBA') };

describe('canSeeSheet', () => {
  it.each<[Visibility, string[]]>([
    ['PRIVATE', ['creator']],
    ['PROJECT', ['creator', 'developer', 'viewer', 'owner', 'dba']],
    ['PUBLIC', ['creator', 'developer', 'viewer', 'owner', 'outsider', 'dba']],
  ])('%s is seen by %j', (visibility, who) => {
    // Act
    const seen = Object.entries(CALLERS).filter(([, u]) => canSeeSheet(new Access(u), SHOP, { visibility, creator: 2 })).map(([k]) => k);
    // Assess
    expect(seen).toEqual(who);
  });
});

describe('canChangeSheet', () => {
  it('lets the creator, a projectOwner and workspace DBAs change a sheet, not another developer', () => {
    // Act
    const may = Object.entries(CALLERS).filter(([, u]) => canChangeSheet(new Access(u), SHOP, { creator: 2 })).map(([k]) => k);
    // Assess
    expect(may).toEqual(['creator', 'owner', 'dba']);
  });
});

describe('parseSheetName', () => {
  it('reads projects/p/sheets/n and refuses anything else with a 400 on the field', () => {
    // Assess
    expect(parseSheetName('projects/shop/sheets/12')).toEqual({ project: 'shop', id: 12 });
    expect(() => parseSheetName('projects/shop/sheets/0')).toThrow(/sheet: .* is not a sheet name/);
    expect(() => parseSheetName('sheets/3')).toThrow(/sheet:/);
  });
});

describe('chunkContent', () => {
  it('cuts UTF-8 bytes into chunks no bigger than CHUNK_BYTES, and joins back byte for byte', () => {
    // Prepare: 4-byte characters land on every chunk edge
    const content = '😀'.repeat(262_144) + 'é';
    // Act
    const chunks = chunkContent(content);
    // Assess
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 1024 * 1024 + 2 - 3 * CHUNK_BYTES]);
    expect(joinChunks(chunks)).toBe(content);
  });

  it('stores empty content as no chunk at all', () => {
    // Assess
    expect(chunkContent('')).toEqual([]);
    expect(joinChunks([])).toBe('');
  });
});
