/** The shapes the messenger reads from Parley's REST API and realtime channels. */

export interface Action {
  _id: string;
  type: string;
  text?: string;
  uri?: string;
  payload?: string;
  iconUrl?: string;
  /** A buy action's price, in cents of `currency`. */
  amount?: number;
  currency?: string;
}

export interface Message {
  _id: string;
  type?: string;
  role: "appUser" | "appMaker" | "whisper";
  text: string;
  name?: string;
  avatarUrl?: string;
  mediaUrl?: string;
  mediaType?: string;
  actions?: Action[];
  source?: { type: string; id?: string };
  received: number;
}

/** A message the visitor wrote that the server has not stored yet. */
export interface Pending {
  localId: string;
  text: string;
  /** An image being uploaded: its preview (an object URL) and progress from 0 to 1. */
  image?: { file: Blob; previewUrl: string; progress: number };
  /** What the message carries besides its text (a quick reply's payload, a location's metadata), kept for a retry. */
  fields?: { payload?: string; metadata?: Record<string, string | number | boolean> };
  status: "sending" | "failed";
}

export type Entry = { kind: "stored"; message: Message } | { kind: "pending"; pending: Pending };

export interface AppUser {
  _id: string;
  userId?: string;
  givenName?: string;
  surname?: string;
  email?: string;
  conversationStarted?: boolean;
  [field: string]: unknown;
}

export interface AppInfo {
  name?: string;
  iconUrl?: string;
  settings?: { web?: { accentColor?: string; brandColor?: string; linkColor?: string } };
}

export interface InitOptions {
  appToken: string;
  userId?: string;
  jwt?: string;
  givenName?: string;
  surname?: string;
  email?: string;
  signedUpAt?: string;
  properties?: Record<string, unknown>;
  customText?: Partial<Record<string, string>>;
  /** Shown in place of the app's name and icon, as Smooch.init's options of the same names. */
  businessName?: string;
  businessIconUrl?: string;
  /** Parley's origin; defaults to the origin messenger.js was loaded from. */
  serviceUrl?: string;
}

export type Connection = "online" | "connecting" | "offline";
