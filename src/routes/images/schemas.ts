import { z } from "zod";
import { flatObject } from "../../lib/schemas";
import { messageFields } from "../conversation/schemas";

/** Form fields carry text only, so `metadata` arrives as JSON text. */
const metadataText = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON object" });
      return z.NEVER;
    }
  })
  .pipe(flatObject);

export const imageFormFields = z.object({ ...messageFields, metadata: metadataText.optional() });
