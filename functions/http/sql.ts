// The SQL editor: read-only queries on a database, ad hoc or from a sheet. The one function
// besides instances that reads data-source passwords (Secrets Manager grant in the stack).
import type { Access } from '../../domain/access.js';
import { UnauthenticatedError } from '../../domain/errors.js';
import { parseUserChosenId } from '../../domain/names.js';
import { parseSheetId } from '../../domain/sheets.js';
import { queryDatabase, queryTimeoutFrom, runSheet, type QueryDeps } from '../../domain/sql-editor.js';
import { DynamoSheetRepo } from '../adapters/dynamo/sheets.js';
import { queryRunner } from '../adapters/sql/query.js';
import { httpHandler, type Request } from '../shared/http.js';
import { deps, idempotency, store } from '../shared/wiring.js';
import { secrets, sql } from '../shared/wiring-sql.js';

const sheets = new DynamoSheetRepo(store);
const queries = queryRunner();
const queryDeps = (req: Request): QueryDeps => ({
  ...deps, secrets, sql, sheets, queries, log: req.log, queryTimeoutMs: queryTimeoutFrom(process.env),
});
const caller = (req: Request): Access => {
  if (!req.access) throw new UnauthenticatedError();
  return req.access;
};

export const handler = httpHandler('sql', { deps, idempotency }, {
  runSheet: async (req) => ({
    status: 200,
    body: await runSheet(queryDeps(req), caller(req), parseUserChosenId(req.params.project!, 'project'), parseSheetId(req.params.sheet!), req.body),
  }),
  queryDatabase: async (req) => ({
    status: 200,
    body: await queryDatabase(queryDeps(req), caller(req), parseUserChosenId(req.params.instance!, 'instance'), req.params.database!, req.body),
  }),
});
