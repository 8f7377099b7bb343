import { ApiError } from '../api.js';

/** Whatever a call threw, as the ApiError a component shows (a bug in the renderer reads as `internal`). */
export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError({ code: 'internal', message: error instanceof Error ? error.message : String(error) });
}
