import { conflict, notFound } from "../errors";

/** D1 reports a broken foreign key as an Error whose message says so. */
const isForeignKeyViolation = (error: unknown) =>
  error instanceof Error && /FOREIGN KEY constraint failed/i.test(error.message);

/** The refusal of migrations/0008's triggers: a user or device written for an app being deleted. */
const isAppNotLive = (error: unknown) => error instanceof Error && /app not live/.test(error.message);

/**
 * Runs a write whose rows point at the app. Credentials and apps are cached per isolate, so the
 * app can be deleted elsewhere between the check and the write: its foreign key then fails,
 * and that is the contract's 409 (the resource changed concurrently), not a server error. A
 * user or device written for an app being deleted is refused by D1 itself: 404, as the app's
 * liveness read answers. Every other failure propagates as it is.
 */
export async function whileAppExists<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (isAppNotLive(error)) throw notFound("appId: the app was deleted");
    if (isForeignKeyViolation(error)) throw conflict("appId: the app was deleted while this request ran");
    throw error;
  }
}
