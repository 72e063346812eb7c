import { buildOpenApi } from '../../domain/api/openapi.js';
import { httpHandler, notFoundHandler } from '../shared/http.js';

let doc: unknown;

export const handler = httpHandler('meta', null, {
  health: async () => ({ body: { ok: true } }),
  openapi: async () => ({ body: (doc ??= buildOpenApi()) }),
});

export const notFound = notFoundHandler();
