// What a route's request and response look like, for the OpenAPI document. Each context exports
// its operations' schemas; domain/api/openapi.ts assembles them.
import type * as z from 'zod/mini';

export interface OperationSchemas {
  request?: z.ZodMiniType;
  response?: z.ZodMiniType;
  /** A list: the response is `{ <field>: item[], nextPageToken? }`. */
  list?: { field: string; item: z.ZodMiniType };
  /** The list takes `?filter=`: what it accepts. */
  filter?: string;
}
