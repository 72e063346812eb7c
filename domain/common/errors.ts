// One error base class with explicit names (Powertools style). Only SluiceError's message and
// details ever reach a client; anything else is reported as a bare 500.

export type ErrorStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'ABORTED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL';

export interface ErrorDetail {
  field?: string;
  description: string;
  permission?: string;
}

export class SluiceError extends Error {
  override readonly name: string = 'SluiceError';
  constructor(
    readonly httpStatus: number,
    readonly status: ErrorStatus,
    message: string,
    readonly details: ErrorDetail[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class InvalidArgumentError extends SluiceError {
  override readonly name: string = 'InvalidArgumentError';
  constructor(message: string, details: ErrorDetail[] = []) {
    super(400, 'INVALID_ARGUMENT', message, details);
  }
}

/** A single bad field: message and details agree ("title: required"). */
export const fieldError = (field: string, description: string): InvalidArgumentError =>
  new InvalidArgumentError(`${field}: ${description}`, [{ field, description }]);

export class FailedPreconditionError extends SluiceError {
  override readonly name: string = 'FailedPreconditionError';
  constructor(message: string) {
    super(400, 'FAILED_PRECONDITION', message);
  }
}

export class UnauthenticatedError extends SluiceError {
  override readonly name: string = 'UnauthenticatedError';
  constructor(message = 'a valid bearer token is required') {
    super(401, 'UNAUTHENTICATED', message);
  }
}

export class PermissionDeniedError extends SluiceError {
  override readonly name: string = 'PermissionDeniedError';
  constructor(message: string, permission?: string) {
    super(403, 'PERMISSION_DENIED', message, permission ? [{ description: `requires ${permission}`, permission }] : []);
  }
}

export class NotFoundError extends SluiceError {
  override readonly name: string = 'NotFoundError';
  constructor(resourceName: string) {
    super(404, 'NOT_FOUND', `${resourceName} not found`);
  }
}

export class AlreadyExistsError extends SluiceError {
  override readonly name: string = 'AlreadyExistsError';
  constructor(resourceName: string) {
    super(409, 'ALREADY_EXISTS', `${resourceName} already exists`);
  }
}

export class AbortedError extends SluiceError {
  override readonly name: string = 'AbortedError';
  constructor(message: string) {
    super(409, 'ABORTED', message);
  }
}

export class PayloadTooLargeError extends SluiceError {
  override readonly name: string = 'PayloadTooLargeError';
  constructor(limitBytes: number) {
    super(413, 'INVALID_ARGUMENT', `request body is larger than ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends SluiceError {
  override readonly name: string = 'UnsupportedMediaTypeError';
  constructor() {
    super(415, 'INVALID_ARGUMENT', 'request body must be application/json');
  }
}

/**
 * A known path asked with a method it does not take: 405 with `Allow`. The status is gRPC's
 * UNIMPLEMENTED, as grpc-gateway (behind Google's and Bytebase's REST APIs) answers a 405.
 */
export class MethodNotAllowedError extends SluiceError {
  override readonly name: string = 'MethodNotAllowedError';
  constructor(
    method: string,
    path: string,
    /** The methods the path takes, for the `Allow` header. */
    readonly allow: readonly string[],
  ) {
    super(405, 'UNIMPLEMENTED', `${method} is not allowed on ${path}; it takes ${allow.join(', ')}`);
  }
}

/** A write lost an optimistic-locking race; the client should re-read and retry. */
export class ConcurrentModificationError extends AbortedError {
  override readonly name: string = 'ConcurrentModificationError';
  constructor(resourceName: string) {
    super(`${resourceName} was changed concurrently; read it again and retry`);
  }
}
