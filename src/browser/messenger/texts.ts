/** Every text the messenger shows; `customText` in Parley.init overrides any of them by name. */
export const DEFAULT_TEXTS = {
  headerText: "How can we help?",
  introductionText: "We're here to talk, so ask us anything!",
  inputPlaceholder: "Type a message…",
  sendButtonText: "Send",
  openButtonText: "Open chat",
  closeButtonText: "Close chat",
  uploadImageText: "Send an image",
  fetchHistory: "Load earlier messages",
  fetchingHistory: "Loading earlier messages…",
  messageSending: "Sending…",
  messageError: "Not sent.",
  messageRetry: "Retry",
  offlineText: "You are offline. Reconnecting…",
  connectingText: "Connecting…",
  typingText: "{name} is typing…",
  businessName: "The team",
  messagesLabel: "Messages",
  unreadLabel: "{count} unread",
  imageLabel: "Image",
  actionPostbackError: "That did not go through. Please try again.",
  locationButtonText: "Send my location",
  locationSentText: "My location: {latitude}, {longitude}",
  locationError: "Your location was not shared.",
  shareButtonText: "Share",
  sharedText: "Copied to the clipboard.",
  offerNote: "Payment is not available in this chat.",
  linkOpensText: "(opens in a new tab)",
} as const;

export type Texts = Record<keyof typeof DEFAULT_TEXTS, string>;

export function textsWith(custom: Partial<Record<string, string>> = {}): Texts {
  const texts = { ...DEFAULT_TEXTS } as Texts;
  for (const key of Object.keys(DEFAULT_TEXTS) as (keyof Texts)[]) {
    if (typeof custom[key] === "string") texts[key] = custom[key] as string;
  }
  return texts;
}

/** "{name} is typing…" with name filled in. */
export const fill = (text: string, values: Record<string, string | number>) =>
  text.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
