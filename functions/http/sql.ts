// The SQL editor: read-only queries on a database, ad hoc or from a sheet. The one function
// besides instances that reads data-source passwords (Secrets Manager grant in the stack).
import type { Access } from '../../domain/access/access.js';
import { UnauthenticatedError } from '../../domain/common/errors.js';
import { parseUserChosenId } from '../../domain/common/names.js';
import { parseSheetId } from '../../domain/sheets/sheets.js';
import { queryDatabase, queryTimeoutFrom, runSheet, type QueryDeps } from '../../domain/sheets/sql-editor.js';
import { statementDetail } from '../../domain/audit/detail.js';
import { httpHandler, type Request } from '../shared/http.js';
import { deps, idempotency, audit } from '../shared/wiring.js';
import { queryRunner, secrets, sql } from '../shared/wiring-sql.js';
import { schemaRepo, sheetRepo } from '../shared/wiring-repos.js';

// The two schema routes API Gateway sends here (the diff library, the DDL writer, the change-history
// store) load on first use: the SQL editor's queries never need them.
const schemaDiff = () => import('../../domain/schema/service.js');
const drift = () => Promise.all([import('../../domain/pipeline/history.js'), import('../../domain/pipeline/resources.js'), import('../shared/wiring-history.js')]);

const sheets = sheetRepo;
const queries = queryRunner();
const queryDeps = (req: Request): QueryDeps => ({
  ...deps, secrets, sql, sheets, queries, log: req.log, queryTimeoutMs: queryTimeoutFrom(process.env),
});
const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};

export const handler = httpHandler('sql', { deps, idempotency, audit }, {
  // Served here because API Gateway routes {database}:diffSchema with {database}:query (one path).
  diffSchema: async (req) => ({
    status: 200,
    body: await (await schemaDiff()).diffSchema({ ...deps, schemas: schemaRepo }, caller(req), parseUserChosenId(req.params.instance!, 'instance'), req.params.database!, req.body),
  }),
  // Here for the same reason: {database}:acceptDrift.
  acceptDrift: async (req) => {
    const [{ acceptDrift }, { toChangeHistoryResource }, { issueRepo }] = await drift();
    return {
      status: 200,
      body: toChangeHistoryResource(await acceptDrift({ ...deps, issues: issueRepo, schemas: schemaRepo }, caller(req), parseUserChosenId(req.params.instance!, 'instance'), req.params.database!)),
    };
  },
  runSheet: async (req) => ({
    status: 200,
    body: await runSheet(queryDeps(req), caller(req), parseUserChosenId(req.params.project!, 'project'), parseSheetId(req.params.sheet!), req.body, (statement) =>
      req.auditNote(statementDetail(statement)),
    ),
  }),
  queryDatabase: async (req) => ({
    status: 200,
    body: await queryDatabase(queryDeps(req), caller(req), parseUserChosenId(req.params.instance!, 'instance'), req.params.database!, req.body),
  }),
});
