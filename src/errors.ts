/** Every error Parley answers with, and the HTTP status each one carries. */
export enum ErrorCode {
  BadRequest = "bad_request",
  Unauthorized = "unauthorized",
  Forbidden = "forbidden",
  NotFound = "not_found",
  Conflict = "conflict",
  PreconditionFailed = "precondition_failed",
  PayloadTooLarge = "payload_too_large",
  UnsupportedMediaType = "unsupported_media_type",
  RangeNotSatisfiable = "range_not_satisfiable",
  UpgradeRequired = "upgrade_required",
  TooManyRequests = "too_many_requests",
  Internal = "internal_error",
}

const STATUS: Record<ErrorCode, number> = {
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.PreconditionFailed]: 412,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.RangeNotSatisfiable]: 416,
  [ErrorCode.UpgradeRequired]: 426,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.Internal]: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }

  get status(): number {
    return STATUS[this.code];
  }

  toResponse(): Response {
    return Response.json(
      { error: { code: this.code, description: this.description } },
      { status: this.status, headers: this.headers },
    );
  }

  static fromStatus(status: number, description: string): ApiError {
    const code = (Object.keys(STATUS) as ErrorCode[]).find((c) => STATUS[c] === status);
    return new ApiError(code ?? ErrorCode.Internal, description);
  }
}

export const badRequest = (description: string) => new ApiError(ErrorCode.BadRequest, description);
export const notFound = (description: string) => new ApiError(ErrorCode.NotFound, description);
export const forbidden = (description: string) => new ApiError(ErrorCode.Forbidden, description);
export const conflict = (description: string) => new ApiError(ErrorCode.Conflict, description);
export const unauthorized = (description: string) =>
  new ApiError(ErrorCode.Unauthorized, description, {
    "WWW-Authenticate": 'Bearer realm="parley", error="invalid_token"',
  });
