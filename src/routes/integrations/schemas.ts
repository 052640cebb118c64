import { z } from "zod";
import { INTEGRATION_TYPES } from "../../enums";
import { nonEmptyString } from "../../lib/schemas";

const PEM_MAX = 8192;

/** A field Smooch once took that Parley refuses: present at all, it is a 400 saying why and what to send. */
const refused = (why: string) =>
  z
    .unknown()
    .optional()
    .refine((value) => value === undefined, { message: why })
    .meta({ description: `Refused: ${why}` });

const LEGACY_FCM =
  "the FCM legacy server key API was shut down by Google; send serviceAccount (the service account key file's JSON) instead";
const APN_CERTIFICATE =
  "APNs certificates need client TLS, which a Worker cannot present per app; send keyId, teamId, bundleId and key (the .p8 token key) instead";

/** The service account key file's JSON, as Google issues it; fields Parley does not read are ignored. */
const serviceAccount = z
  .object({
    type: z.literal("service_account", { error: 'must be "service_account"' }),
    project_id: nonEmptyString(256),
    private_key_id: z.string().max(256).optional(),
    private_key: z.string().max(PEM_MAX),
    client_email: z.email().max(512),
  })
  .meta({ description: "The service account key file (JSON) from the Firebase console, as issued." });

// The refused fields come first: they are the first issue reported, whatever else is missing.
const fcm = z.object({
  serverKey: refused(LEGACY_FCM),
  type: z.literal("fcm"),
  serviceAccount,
  senderId: nonEmptyString(64).optional().meta({ description: "The Firebase project number, shown to devices as `gcmProject`." }),
});

const apn = z.object({
  certificate: refused(APN_CERTIFICATE),
  password: refused(APN_CERTIFICATE),
  type: z.literal("apn"),
  keyId: z.string().regex(/^[A-Z0-9]{10}$/, "must be the 10-character key ID of the .p8 key"),
  teamId: z.string().regex(/^[A-Z0-9]{10}$/, "must be the 10-character Apple team ID"),
  bundleId: nonEmptyString(256),
  key: z.string().max(PEM_MAX).meta({ description: "The .p8 file's text (PEM)." }),
  production: z.boolean().default(false).meta({ description: "api.push.apple.com when true, the sandbox otherwise." }),
});

const webpush = z.object({ type: z.literal("webpush") });

const slack = z.object({
  type: z.literal("slack"),
  botToken: z
    .string()
    .regex(/^xoxb-[A-Za-z0-9-]{1,250}$/, 'must be the Slack app\'s bot token ("xoxb-...")')
    .meta({ description: "The bot user OAuth token, checked with Slack's auth.test. Stored, never returned." }),
  signingSecret: z
    .string()
    .regex(/^[0-9a-f]{16,128}$/, "must be the Slack app's signing secret (hex, from Basic Information)")
    .meta({ description: "Verifies the Events API's requests. Stored, never returned." }),
  channelId: z
    .string()
    .regex(/^[CG][A-Z0-9]{2,30}$/, 'must be a Slack channel ID ("C..." or "G...")')
    .meta({ description: "The channel conversations are threaded in; the bot must be a member." }),
});

const email = z.object({
  type: z.literal("email"),
  to: z
    .array(z.email({ error: "must be email addresses" }).max(254))
    .min(1, "must list 1 to 10 addresses")
    .max(10, "must list 1 to 10 addresses")
    .meta({ description: "Where each appUser message is emailed; replies from these addresses answer the user." }),
  fromName: nonEmptyString(100)
    .optional()
    .meta({ description: 'Shown as "<user> via <fromName>" in the emails\' From; the app\'s name by default.' }),
});

export const createIntegrationBody = z.discriminatedUnion("type", [fcm, apn, webpush, slack, email], {
  error: `must be one of ${INTEGRATION_TYPES.join(", ")}`,
});

export const listIntegrationsQuery = z.object({
  types: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(",").map((type) => type.trim()) : undefined))
    .pipe(z.array(z.enum(INTEGRATION_TYPES)).optional())
    .meta({ description: "Comma-separated types to list, e.g. `fcm,apn`." }),
});
