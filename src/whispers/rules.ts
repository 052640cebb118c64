import { deleteWhisper, findWhisper, insertWhisper, listWhispers, type Whisper } from "../db/whispers";
import { badRequest, notFound } from "../errors";
import { newId } from "../lib/ids";

export const MAX_WHISPERS_PER_APP = 100;

export interface WhisperInput {
  event: string;
  text: string;
  name?: string;
  avatarUrl?: string;
}

export async function createWhisper(env: Env, appId: string, input: WhisperInput): Promise<Whisper> {
  const whisper: Whisper = {
    id: newId(),
    appId,
    event: input.event,
    text: input.text,
    name: input.name ?? null,
    avatarUrl: input.avatarUrl ?? null,
    createdAt: Date.now(),
  };
  if (!(await insertWhisper(env.DB, whisper, MAX_WHISPERS_PER_APP))) {
    throw badRequest(`whispers: an app has at most ${MAX_WHISPERS_PER_APP} whispers`);
  }
  return whisper;
}

export const appWhispers = (env: Env, appId: string) => listWhispers(env.DB, appId);

export async function getWhisper(env: Env, appId: string, id: string): Promise<Whisper> {
  const whisper = await findWhisper(env.DB, appId, id);
  if (!whisper) throw notFound(`whisperId: no whisper '${id}'`);
  return whisper;
}

export async function removeWhisper(env: Env, appId: string, id: string): Promise<void> {
  if (!(await deleteWhisper(env.DB, appId, id))) throw notFound(`whisperId: no whisper '${id}'`);
}
