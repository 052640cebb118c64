// The message model: what a conversation holds, as the contract shows it. The domain builds and
// stores these; presenters/ and the OpenAPI document use the schemas to shape and describe them.
import { z } from "zod";
import { ACTION_STATES, ACTION_TYPES, MESSAGE_TYPES, ROLES, SOURCE_TYPES } from "../enums";
import { flatObjectShape } from "../lib/schemas";

export const actionSchema = z
  .object({
    _id: z.string(),
    type: z.enum(ACTION_TYPES),
    text: z.string().optional(),
    uri: z.string().optional(),
    payload: z.string().optional(),
    iconUrl: z.string().optional(),
    amount: z.number().int().optional().meta({ description: "In cents (hundredths of the currency)." }),
    currency: z.string().optional(),
    state: z.enum(ACTION_STATES).optional(),
  })
  .meta({ id: "Action", description: "A button of an appMaker message; `_id` is what a postback names." });

export const sourceSchema = z
  .object({
    type: z.enum(SOURCE_TYPES),
    id: z.string().optional().meta({ description: "The `deviceId` the message was posted with: the web messenger skips its own." }),
  })
  .meta({ id: "MessageSource", description: "Where a message came from: the sending device's platform, or `api`." });

/** A message as the contract shows it; `received` is unix seconds with milliseconds. */
export const messageSchema = z
  .object({
    _id: z.string(),
    type: z.enum(MESSAGE_TYPES),
    authorId: z.string(),
    role: z.enum(ROLES),
    name: z.string().optional(),
    email: z
      .string()
      .optional()
      .meta({ description: "The author's email address, when the message was posted with one: its gravatar is the default `avatarUrl`." }),
    text: z.string(),
    avatarUrl: z.string().optional(),
    mediaUrl: z.string().optional(),
    mediaType: z.string().optional(),
    metadata: flatObjectShape.optional(),
    payload: z.string().optional().meta({ description: "The payload of the quick reply the app user answered with." }),
    actions: z.array(actionSchema),
    source: sourceSchema,
    received: z.number(),
  })
  .meta({ id: "Message", description: "One message of a conversation." });

/** Named so as not to shadow the Workers global `Message` (a queue message). */
export type ConversationMessage = z.output<typeof messageSchema>;
export type MessageAction = z.output<typeof actionSchema>;
export type MessageSource = z.output<typeof sourceSchema>;

/** What the worker hands the conversation; it assigns `received`. */
export type NewMessage = Omit<ConversationMessage, "received">;

/** The source of a message posted by anything but a known device. */
export const API_SOURCE: MessageSource = { type: "api" };

/** A message stored before `type`, `actions` and `source` existed reads with the values it would have had. */
export const withMessageDefaults = <M extends Partial<NewMessage>>(message: M) =>
  message.type && message.actions && message.source
    ? message
    : { type: message.mediaUrl ? ("image" as const) : ("text" as const), actions: [], source: API_SOURCE, ...message };
