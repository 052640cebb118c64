import { indexChannel } from "./conversation-index/channel";
import { ChannelRegistry } from "../delivery/registry";
import { emailChannel } from "./email/channel";
import { pushChannel } from "./push/channel";
import { slackChannel } from "./slack/channel";
import { webhookChannel } from "./webhooks/channel";

/**
 * Every channel Parley delivers conversation events through. A new channel is one module
 * implementing `Channel` (src/delivery/channel.ts), listed here: it needs no outbox table, drain
 * or consumer of its own.
 */
export const CHANNELS = new ChannelRegistry([webhookChannel, pushChannel, slackChannel, emailChannel, indexChannel]);
