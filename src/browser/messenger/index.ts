// Parley Messenger: the global `Parley`, with the API of `Smooch` (Smooch.init and its methods and
// events), so a site moving from Smooch changes its script tag and the global's name only.
import { forgetDevice } from "./device.ts";
import { Emitter, type EventName } from "./emitter.ts";
import { Messenger } from "./messenger.ts";
import type { AppUser, InitOptions, Message } from "./types.ts";
import { VERSION } from "./version.ts";

// The origin this script was loaded from: Parley's own, the default serviceUrl.
const scriptOrigin = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  return src ? new URL(src).origin : location.origin;
})();

const events = new Emitter();
let messenger: Messenger | undefined;
let current: InitOptions | undefined;

function active(): Messenger {
  if (!messenger) throw new Error("Parley: call Parley.init() first");
  return messenger;
}

async function start(options: InitOptions): Promise<AppUser> {
  if (!options || typeof options.appToken !== "string" || !options.appToken) throw new Error("Parley.init: appToken is required");
  current = options;
  const started = new Messenger(options, (options.serviceUrl ?? scriptOrigin).replace(/\/+$/, ""), events);
  messenger = started;
  try {
    return await started.start();
  } catch (error) {
    started.destroy();
    if (messenger === started) messenger = undefined;
    throw error;
  }
}

function stop(): void {
  messenger?.destroy();
  messenger = undefined;
}

/** Starts over with other options (login, logout), open if it was. */
async function restart(options: InitOptions): Promise<AppUser> {
  const wasOpen = messenger?.isOpened() ?? false;
  stop();
  const appUser = await start(options);
  if (wasOpen) messenger?.open();
  return appUser;
}

const Parley = {
  VERSION,
  init(options: InitOptions): Promise<AppUser> {
    if (messenger) return Promise.reject(new Error("Parley.init: already initialised (call Parley.destroy() first)"));
    return start(options);
  },
  open: () => active().open(),
  close: () => active().close(),
  isOpened: () => messenger?.isOpened() ?? false,
  sendMessage: (text: string): Promise<Message> => active().sendMessage(text),
  track: (name: string, props?: Record<string, unknown>) => active().track(name, props),
  updateUser: (props: Record<string, unknown>) => active().updateUser(props),
  getUser: (): AppUser | undefined => messenger?.appUser,
  /** Signs in as `userId` (with its JWT): the device's anonymous conversation merges into theirs. */
  login(userId: string, jwt?: string): Promise<AppUser> {
    if (!current) return Promise.reject(new Error("Parley: call Parley.init() first"));
    return restart({ ...current, userId, jwt });
  },
  /** Back to a new anonymous visitor, on a new device. */
  logout(): Promise<AppUser> {
    if (!current) return Promise.reject(new Error("Parley: call Parley.init() first"));
    const { userId: _userId, jwt: _jwt, ...options } = current;
    forgetDevice();
    return restart(options);
  },
  destroy(): void {
    if (!messenger) return;
    stop();
    events.emit("destroy");
  },
  on: (name: EventName, listener: (value?: any) => void) => events.on(name, listener),
  off: (name?: EventName, listener?: (value?: any) => void) => events.off(name, listener),
};

declare global {
  interface Window {
    Parley: typeof Parley;
  }
}

window.Parley = Parley;
