import { z } from "zod";
import { nonEmptyString } from "../../lib/schemas";

export const demoReplyBody = z.object({
  appUserId: nonEmptyString(256).meta({ description: "The visitor on the demo page: an app user of the Demo app." }),
  text: nonEmptyString(8192),
});
