import { BayeuxClient } from "./bayeux.ts";
import { locationMessage } from "./content.ts";
import { ConversationState } from "./conversation-state.ts";
import { deviceId } from "./device.ts";
import type { Emitter } from "./emitter.ts";
import { Rest, type MessagesPage } from "./rest.ts";
import { textsWith, type Texts } from "./texts.ts";
import { themeOf } from "./theme.ts";
import type { Action, AppUser, Connection, InitOptions, Message, Pending } from "./types.ts";
import { VERSION } from "./version.ts";
import { View } from "./view.ts";

/** The init options that go to POST /v1/init. */
const PROFILE_OPTIONS = ["userId", "givenName", "surname", "email", "signedUpAt", "properties"] as const;

/** A typing indicator whose stop never came is taken down after this long. */
const TYPING_TIMEOUT_MS = 10_000;
/** How long a notice (a failed postback) stays before the connection status shows again. */
const NOTICE_MS = 4_000;

/**
 * One visitor's messenger: from Parley.init() (or login/logout) until destroy. It owns the
 * conversation state and keeps the view, the REST calls and the realtime channel in step.
 */
export class Messenger {
  appUser!: AppUser;
  private readonly rest: Rest;
  private readonly view: View;
  private readonly texts: Texts;
  private readonly device = deviceId();
  private readonly state: ConversationState;
  private realtime: BayeuxClient | undefined;
  private conversationId = "";
  private connection: Connection = "connecting";
  private loadingOlder = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private destroyed = false;
  private readonly onOffline = () => {
    this.setConnection("offline");
    this.realtime?.drop();
  };
  private readonly onOnline = () => this.realtime?.retryNow();
  private readonly onVisible = () => this.markReadIfLooking();

  constructor(
    private readonly options: InitOptions,
    serviceUrl: string,
    private readonly events: Emitter,
  ) {
    this.texts = textsWith(options.customText);
    this.rest = new Rest(serviceUrl, { appToken: options.appToken, jwt: options.jwt });
    this.state = new ConversationState(this.device);
    this.view = new View(this.texts, {
      open: () => this.open(true),
      close: () => this.close(true),
      send: (text) => void this.sendMessage(text).catch(() => undefined),
      sendImage: (file) => void this.sendImage(file),
      retry: (localId) => void this.retry(localId),
      postback: (action) => void this.postback(action),
      reply: (action) => void this.sendMessage(action.text ?? "", { payload: action.payload }).catch(() => undefined),
      locationRequest: () => this.sendLocation(),
      share: (message, action) => void this.share(message, action),
      loadOlder: () => void this.loadOlder(),
    });
  }

  async start(): Promise<AppUser> {
    // Only what init takes: Smooch.init options Parley has no use for (say, soundNotificationEnabled) stay here.
    const profile = Object.fromEntries(PROFILE_OPTIONS.filter((name) => this.options[name] !== undefined).map((name) => [name, this.options[name]]));
    const { app, appUser } = await this.rest.init({
      device: { id: this.device, platform: "web", info: { sdkVersion: VERSION, URL: location.host, userAgent: navigator.userAgent } },
      ...profile,
    });
    this.appUser = appUser;
    const { businessName, businessIconUrl } = this.options;
    this.view.setApp({ ...app, name: businessName ?? app.name, iconUrl: businessIconUrl ?? app.iconUrl }, themeOf(app.settings?.web));
    await this.loadNewest();
    if (this.destroyed) return appUser;
    this.view.mount();
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    document.addEventListener("visibilitychange", this.onVisible);
    if (appUser.conversationStarted || this.state.messages.length > 0) this.connect();
    this.events.emit("ready");
    return appUser;
  }

  isOpened(): boolean {
    return this.view.isOpen;
  }

  open(focus = false): void {
    this.view.setOpen(true, focus);
    this.connect();
    this.markReadIfLooking();
  }

  close(focus = false): void {
    this.view.setOpen(false, focus);
  }

  async sendMessage(text: string, fields?: Pending["fields"]): Promise<Message> {
    const pending = this.state.addPending(text);
    pending.fields = fields;
    this.render();
    return this.post(pending.localId);
  }

  async track(name: string, userProps?: Record<string, unknown>): Promise<unknown> {
    return this.rest.call("POST", this.rest.user(this.appUser._id, "/events"), { name, ...(userProps && { appUser: userProps }) });
  }

  async updateUser(props: Record<string, unknown>): Promise<AppUser> {
    const { appUser } = await this.rest.call<{ appUser: AppUser }>("PUT", this.rest.user(this.appUser._id), props);
    this.appUser = appUser;
    return appUser;
  }

  destroy(): void {
    this.destroyed = true;
    this.realtime?.stop();
    clearTimeout(this.typingTimer);
    clearTimeout(this.noticeTimer);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
    for (const pending of this.state.pending) if (pending.image) URL.revokeObjectURL(pending.image.previewUrl);
    this.view.remove();
  }

  private async post(localId: string): Promise<Message> {
    const pending = this.state.findPending(localId)!;
    try {
      const { message } = await this.rest.call<{ message: Message }>("POST", this.rest.user(this.appUser._id, "/messages"), {
        role: "appUser",
        type: "text",
        text: pending.text,
        deviceId: this.device,
        ...(pending.fields?.payload !== undefined && { payload: pending.fields.payload }),
        ...(pending.fields?.metadata && { metadata: pending.fields.metadata }),
      });
      this.sent(localId, message);
      return message;
    } catch (error) {
      this.failed(localId);
      throw error;
    }
  }

  private async sendImage(file: File): Promise<void> {
    const pending = this.state.addPending("", { file, previewUrl: URL.createObjectURL(file), progress: 0 });
    this.render();
    await this.upload(pending.localId);
  }

  private async upload(localId: string): Promise<void> {
    const image = this.state.findPending(localId)!.image!;
    try {
      const { message } = await this.rest.upload(this.appUser._id, { role: "appUser", deviceId: this.device }, image.file, (fraction) => {
        image.progress = fraction;
        this.view.setProgress(localId, fraction);
      });
      URL.revokeObjectURL(image.previewUrl);
      this.sent(localId, message);
    } catch {
      this.failed(localId);
    }
  }

  private retry(localId: string): Promise<unknown> {
    const pending = this.state.findPending(localId);
    if (!pending || pending.status !== "failed") return Promise.resolve();
    pending.status = "sending";
    this.render();
    return pending.image ? this.upload(localId) : this.post(localId).catch(() => undefined);
  }

  private sent(localId: string, message: Message): void {
    this.state.settle(localId, message);
    this.render();
    this.connect();
    this.events.emit("message:sent", message);
  }

  private failed(localId: string): void {
    const pending = this.state.findPending(localId);
    if (pending) pending.status = "failed";
    this.render();
  }

  private async postback(action: Action): Promise<void> {
    try {
      await this.rest.call("POST", this.rest.user(this.appUser._id, "/conversation/postback"), { actionId: action._id });
    } catch {
      this.notice(this.texts.actionPostbackError);
    }
  }

  /** Shows a passing notice where the connection status goes. */
  private notice(text: string): void {
    this.view.showNotice(text);
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => this.view.setConnection(this.connection), NOTICE_MS);
  }

  /**
   * A location request: the browser asks the visitor's consent, and their position is sent as a
   * text message with the coordinates (the API has no location message type) and as metadata.
   */
  private sendLocation(): void {
    if (!navigator.geolocation) return this.notice(this.texts.locationError);
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => {
        const { text, metadata } = locationMessage(coords, this.texts.locationSentText);
        void this.sendMessage(text, { metadata }).catch(() => undefined);
      },
      () => this.notice(this.texts.locationError),
      { enableHighAccuracy: false, timeout: 30_000, maximumAge: 60_000 },
    );
  }

  /** A share action: the system's share sheet with the message (and the action's http(s) uri, if any), else the clipboard. */
  private async share(message: Message, action: Action): Promise<void> {
    const url = action.uri && /^https?:\/\//i.test(action.uri) ? action.uri : undefined;
    const data = { text: message.text, ...(url && { url }) };
    try {
      if (typeof navigator.share === "function") return await navigator.share(data);
      await navigator.clipboard.writeText([message.text, url].filter(Boolean).join(" "));
      this.notice(this.texts.sharedText);
    } catch (error) {
      // The visitor closing the share sheet is no failure.
      if ((error as Error).name !== "AbortError") this.notice(this.texts.actionPostbackError);
    }
  }

  private async loadOlder(): Promise<void> {
    const before = this.state.oldestReceived;
    if (this.loadingOlder || !this.state.hasOlder || before === undefined) return;
    this.loadingOlder = true;
    this.view.setLoadingOlder(true, true);
    try {
      const page = await this.rest.messages(this.appUser._id, before);
      this.state.addPage(page.messages, page.previous !== undefined, true);
      this.render();
    } finally {
      this.loadingOlder = false;
      this.view.setLoadingOlder(false, this.state.hasOlder);
    }
  }

  /**
   * The newest page: at start, and to catch up each time the realtime channel is up (what was
   * said while it was down); business messages new to a catch-up are announced as received.
   */
  private async loadNewest(catchUp = false): Promise<void> {
    const page: MessagesPage = await this.rest.messages(this.appUser._id);
    this.conversationId = page.conversation._id;
    const fresh = this.state.addPage(page.messages, page.previous !== undefined, false);
    if (catchUp) for (const message of fresh) if (message.role !== "appUser") this.events.emit("message:received", message);
    this.setUnread(this.state.unreadWithPage(page.conversation.unreadCount, page.messages));
    this.render();
    this.markReadIfLooking();
  }

  /** Subscribes to the conversation and its activity, once. */
  private connect(): void {
    if (this.realtime || !this.conversationId || this.destroyed) return;
    const credentials = this.options.jwt ? { jwt: this.options.jwt } : { appToken: this.options.appToken };
    this.realtime = new BayeuxClient({
      url: `${this.rest.serviceUrl}/faye`,
      ext: () => ({ appUserId: this.appUser._id, ...credentials }),
      onStatus: (up) => {
        this.setConnection(up ? "online" : navigator.onLine === false ? "offline" : "connecting");
        if (up) void this.loadNewest(true).catch(() => undefined);
      },
    });
    const channel = `/v1/conversations/${this.conversationId}`;
    this.realtime.subscribe(channel, (message: Message) => this.onMessage(message));
    this.realtime.subscribe(`${channel}/activity`, (event: { activity?: string; role?: string; data?: { name?: string } }) => this.onActivity(event));
    this.realtime.start();
  }

  private onMessage(message: Message): void {
    if (!this.state.receive(message)) return;
    if (message.role !== "appUser") {
      this.showTyping(null);
      this.setUnread(this.state.unreadAfter(message, this.looking()));
      this.events.emit("message:received", message);
    }
    this.render();
    this.markReadIfLooking();
  }

  private onActivity(event: { activity?: string; role?: string; data?: { name?: string } }): void {
    if (event.role !== "appMaker") return;
    this.showTyping(event.activity === "typing:start" ? (event.data?.name ?? "") : null);
  }

  private showTyping(name: string | null): void {
    clearTimeout(this.typingTimer);
    this.view.setTyping(name);
    if (name !== null) this.typingTimer = setTimeout(() => this.view.setTyping(null), TYPING_TIMEOUT_MS);
  }

  /** The visitor sees the conversation: the panel is open on a visible page. */
  private looking(): boolean {
    return this.view.isOpen && document.visibilityState === "visible";
  }

  private markReadIfLooking(): void {
    if (!this.looking() || this.state.unread === 0 || !this.appUser) return;
    this.setUnread(0);
    this.rest.call("POST", this.rest.user(this.appUser._id, "/conversation/read")).catch(() => undefined);
  }

  private setUnread(count: number): void {
    const changed = count !== this.state.unread;
    this.state.unread = count;
    this.view.setUnread(count);
    if (changed) this.events.emit("unreadCount", count);
  }

  private setConnection(connection: Connection): void {
    this.connection = connection;
    this.view.setConnection(connection);
  }

  private render(): void {
    this.view.renderMessages(this.state.entries());
    this.view.setLoadingOlder(this.loadingOlder, this.state.hasOlder);
  }
}
