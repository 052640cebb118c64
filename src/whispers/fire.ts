import { composeMessage } from "../conversation/compose";
import { postMessages } from "../conversation/post";
import type { AppUser } from "../db/app-users";
import { listWhispersForEvent } from "../db/whispers";

/** Posts every whisper that listens to this event into the user's conversation; true when one did. */
export async function fireWhispers(env: Env, user: AppUser, event: string): Promise<boolean> {
  const whispers = await listWhispersForEvent(env.DB, user.appId, event);
  if (whispers.length === 0) return false;
  const messages = await Promise.all(
    whispers.map((whisper) =>
      composeMessage(user, {
        role: "appMaker",
        text: whisper.text,
        name: whisper.name ?? undefined,
        avatarUrl: whisper.avatarUrl ?? undefined,
      }),
    ),
  );
  await postMessages(env, user, messages);
  return true;
}
