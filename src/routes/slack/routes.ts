import { Hono } from "hono";
import { z } from "zod";
import { publicAccess } from "../../http/access";
import type { AppEnv } from "../../http/context";
import { describe } from "../../http/openapi";
import { slackEnvelope, takeSlackRequest } from "../../channels/slack/events";

/** Slack's Events API request URL for one Slack integration (see the README's Slack section). */
export const slackEventsRoutes = new Hono<AppEnv>();

slackEventsRoutes.post(
  "/integrations/:integrationId/slack/events",
  describe({
    summary: "Slack's Events API request URL",
    description:
      "Slack posts here; set it as the Slack app's request URL. Verified with the integration's signing secret " +
      "(`X-Slack-Signature`, `X-Slack-Request-Timestamp`; anything else is 401 and changes nothing). A `url_verification` " +
      "is answered with its `challenge`. A team member's reply in a conversation's thread becomes an appMaker message " +
      "of that conversation, after the acknowledgement; a retried event (same `event_id`) makes no second one.",
    tags: ["Integrations"],
    body: slackEnvelope,
    example: { type: "url_verification", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" },
    errors: [401],
    responses: { 200: { description: "Taken: the challenge, or nothing.", schema: z.object({ challenge: z.string().optional() }) } },
  }),
  publicAccess,
  async (c) => {
    const answer = await takeSlackRequest(c.env, {
      integrationId: c.req.param("integrationId"),
      timestamp: c.req.header("x-slack-request-timestamp"),
      signature: c.req.header("x-slack-signature"),
      // Read once, as sent: the signature covers these exact bytes.
      rawBody: await c.req.text(),
      origin: new URL(c.req.url).origin,
    });
    return c.json(answer);
  },
);
