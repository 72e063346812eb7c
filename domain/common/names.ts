// Resource names (AIP-122): the one place that formats and parses them.
import { fieldError } from './errors.js';

export const USER_CHOSEN_ID = /^[a-z][a-z0-9-]{1,62}$/;
export const SYSTEM_BOT_ID = 1;

export const userName = (id: number): string => `users/${id}`;
/** Emails compare case-insensitively: one user per address however it is typed. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
export const environmentName = (id: string): string => `environments/${id}`;
export const projectName = (id: string): string => `projects/${id}`;

/** Parses the `{id}` path segment of a user: a positive integer, nothing else. */
export function parseUserId(raw: string, field = 'id'): number {
  if (!/^[1-9][0-9]{0,9}$/.test(raw)) throw fieldError(field, 'must be a user id (a positive integer)');
  return Number(raw);
}

export function parseUserChosenId(raw: string, field = 'id'): string {
  if (!USER_CHOSEN_ID.test(raw)) throw fieldError(field, `must match ${USER_CHOSEN_ID.source}`);
  return raw;
}

/** Accepts `environments/prod` and returns `prod`. */
export function parseEnvironmentName(raw: string, field = 'environment'): string {
  const m = /^environments\/([^/]+)$/.exec(raw);
  if (!m?.[1] || !USER_CHOSEN_ID.test(m[1])) throw fieldError(field, 'must be an environment name like environments/prod');
  return m[1];
}

export const instanceName = (id: string): string => `instances/${id}`;
/** `instances/{i}/databases/{db}`; a database name is whatever the server calls it. */
export const databaseName = (instance: string, database: string): string => `instances/${instance}/databases/${database}`;
