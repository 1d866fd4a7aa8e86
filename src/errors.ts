/**
 * The error catalogue: every error a user can cause or see, with its stable code, HTTP status
 * (data plane and admin API) and CLI exit code. `docs/errors.md` documents each entry and
 * `test/errors-doc.test.ts` fails when the two drift apart.
 */

export interface ErrorDef {
  /** Stable, snake_case; what clients match on (`{"error": CODE}`). */
  readonly code: string;
  /** HTTP status when the error is answered over HTTP. */
  readonly status: number;
  /** CLI exit code when the error ends a command. */
  readonly exitCode: number;
  /** Default message. */
  readonly message: string;
}

function def(code: string, status: number, exitCode: number, message: string): ErrorDef {
  return Object.freeze({ code, status, exitCode, message });
}

export const ERRORS = Object.freeze({
  // Data plane (CONTRACT section 4).
  NO_ROUTE: def('no_route', 404, 1, 'No application is routed at this path.'),
  BODY_TOO_LARGE: def('body_too_large', 413, 1, 'The request body is larger than http_options.max_body_bytes.'),
  HANDLER_ERROR: def('handler_error', 500, 1, 'The handler threw an error.'),
  REPLICA_DIED: def('replica_died', 502, 1, 'The replica serving this request exited before answering.'),
  BACKPRESSURE: def('backpressure', 503, 1, 'Too many requests are queued for this deployment (max_queued_requests).'),
  UNAVAILABLE: def('unavailable', 503, 1, 'No replica can serve this request.'),
  TIMEOUT: def('timeout', 504, 1, 'The request took longer than http_options.request_timeout_s.'),

  // Spec and control plane (CONTRACT sections 2 and 5).
  SPEC_INVALID: def('spec_invalid', 400, 1, 'The spec is invalid.'),
  STATIC_CONFIG_CHANGED: def('static_config_changed', 400, 1, 'http_options and admin are fixed when the gateway starts; restart it to change them.'),
  APPLY_FAILED: def('apply_failed', 500, 1, 'An application failed to deploy.'),
  NOT_FOUND: def('not_found', 404, 1, 'No admin API route at this path.'),
  METHOD_NOT_ALLOWED: def('method_not_allowed', 405, 1, 'This admin API route does not take this method.'),
  UNAUTHORIZED: def('unauthorized', 401, 3, 'The admin API needs `Authorization: Bearer <token>` (SWITCHYARD_ADMIN_TOKEN).'),
  ADMIN_TOKEN_REQUIRED: def('admin_token_required', 400, 1, 'An admin API on a non-loopback host needs SWITCHYARD_ADMIN_TOKEN.'),
  GATEWAY_UNREACHABLE: def('gateway_unreachable', 503, 3, 'Cannot reach the gateway\'s admin API.'),
  FILE_NOT_FOUND: def('file_not_found', 400, 1, 'The spec file does not exist or cannot be read.'),
  PORT_IN_USE: def('port_in_use', 500, 1, 'The address is already in use.'),
  USAGE: def('usage', 400, 2, 'The command line is not valid.'),
} satisfies Record<string, ErrorDef>);

export type ErrorName = keyof typeof ERRORS;

/** An error with a catalogue entry; everything user-facing throws one of these. */
export class SwitchyardError extends Error {
  readonly code: string;
  readonly status: number;
  readonly exitCode: number;
  readonly details: unknown;

  constructor(def: ErrorDef, message?: string, options?: { cause?: unknown; details?: unknown }) {
    super(message ?? def.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchyardError';
    this.code = def.code;
    this.status = def.status;
    this.exitCode = def.exitCode;
    this.details = options?.details;
  }

  /** The JSON body answered over HTTP: `{"error": CODE, "message": ...}`. */
  toJSON(): { error: string; message: string } {
    return { error: this.code, message: this.message };
  }
}
