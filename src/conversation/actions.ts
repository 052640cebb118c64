import { newId } from "../lib/ids";
import type { MessageAction } from "../model/message";

/** A button as the business describes it; the server gives it its `_id` and, for buy, its state. */
export type ActionInput = Omit<MessageAction, "_id" | "state">;

export const composeAction = (input: ActionInput): MessageAction => ({
  _id: newId(),
  ...input,
  ...(input.type === "buy" && { state: "offered" as const }),
});
