// Ports every context may use: idempotency records, configuration, secret storage.

/** A stored answer to a create, replayed for a retry with the same Idempotency-Key. */
export interface StoredResponse {
  statusCode: number;
  body: string;
}

export type IdempotencyRecord =
  | { state: 'IN_PROGRESS'; requestHash: string }
  | { state: 'COMPLETED'; requestHash: string; response: StoredResponse };

export interface IdempotencyRepo {
  /** Claims the key; returns the existing record instead when someone holds it already. */
  claim(scope: string, requestHash: string, expiresAt: Date): Promise<IdempotencyRecord | undefined>;
  complete(scope: string, requestHash: string, response: StoredResponse, expiresAt: Date): Promise<void>;
  release(scope: string): Promise<void>;
  /** Moves an IN_PROGRESS claim's expiry (the operation still runs); a no-op once it is completed or gone. */
  extend(scope: string, requestHash: string, expiresAt: Date): Promise<void>;
}

export interface ConfigRepo {
  /** The HMAC key for page tokens; created once by the seed. */
  pageTokenKey(): Promise<Buffer>;
}

/**
 * Where passwords live. A secret's name (`instances/pg-prod/admin`) is the reference the table
 * keeps; each store maps it to its own place (a Secrets Manager secret under a prefix, a key in
 * the local encrypted file).
 */
export interface SecretStore {
  /** Creates or replaces the secret called `name`. */
  put(name: string, value: string): Promise<void>;
  /** The secret's value, or undefined when nothing is stored under `name`. */
  get(name: string): Promise<string | undefined>;
  /** Deletes it at once; no error when it is already gone. */
  delete(name: string): Promise<void>;
}
