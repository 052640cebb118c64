/** The browser's device id, kept in localStorage so that a returning visitor is the same app user. */
const KEY = "parley.deviceId";

const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

/** Storage that may be refused (privacy modes, sandboxed frames): then one id for this page's life. */
function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

export function deviceId(): string {
  const store = storage();
  let id = store?.getItem(KEY);
  if (!id) {
    id = randomId();
    store?.setItem(KEY, id);
  }
  return id;
}

/** A new device: after logout the browser starts over as a new anonymous visitor. */
export function forgetDevice(): void {
  storage()?.removeItem(KEY);
}
