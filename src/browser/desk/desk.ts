// The Desk's controller: what the agent sees (the app, the list or the search results, the open
// conversation) and what keeps it current (the live channel), between the API and the view.
import { AppApi, DeskError, deskApps } from "./api.ts";
import { Attention } from "./attention.ts";
import { LiveChannel } from "./live.ts";
import { renderProfile } from "./profile-view.ts";
import { appendPage, applyChange, keeps, mergeMessages, userLabel, withListed } from "./state.ts";
import type { Agent, AppUser, Device, Entry, ListFilter, LiveEvent, Message, SearchResult, Status } from "./types.ts";
import { DeskView } from "./view.ts";

const LAST_APP_KEY = "parley.desk.app";
/** The agent's typing is said to stop after this long without a key. */
const TYPING_IDLE_MS = 3_000;
/** A user's typing that no stop follows is no longer shown after this long. */
const USER_TYPING_MS = 15_000;

interface OpenConversation {
  appUserId: string;
  appUser: AppUser;
  messages: Message[];
  hasOlder: boolean;
  devices?: Device[];
}

export class Desk {
  private readonly view: DeskView;
  private readonly attention: Attention;
  private readonly startedAt = Date.now() / 1000;
  private api: AppApi | null = null;
  private me: Agent = { email: "", name: "" };
  private agents: Agent[] = [];
  private filter: ListFilter = { status: "open", mine: false, q: "" };
  private entries: Entry[] = [];
  private hasMore = false;
  private search: { q: string; results: SearchResult[]; hasMore: boolean } | null = null;
  private open: OpenConversation | null = null;
  /** Each conversation's newest message id as last seen, to tell a new message from a change of state. */
  private readonly lastSeen = new Map<string, string>();
  private live: LiveChannel | null = null;
  /** Bumped by every list read, so that an older read answering late is dropped. */
  private listRead = 0;
  private typingSent = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private userTypingTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    mount: HTMLElement,
    private readonly mediaOrigins: string[],
  ) {
    this.view = new DeskView({
      pickApp: (appId) => this.guard(() => this.pickApp(appId)),
      filter: (filter) => {
        this.filter = filter;
        this.guard(() => this.loadList());
      },
      search: (q) => this.guard(() => this.runSearch(q)),
      clearSearch: () => {
        this.search = null;
        this.view.clearSearchInput();
        this.renderList();
      },
      more: () => this.guard(() => this.more()),
      open: (appUserId) => this.guard(() => this.openConversation(appUserId)),
      back: () => this.closeConversation(),
      older: () => this.guard(() => this.older()),
      send: (text) => this.guard(() => this.send(text)),
      sendImage: (file) => this.guard(() => this.sendImage(file)),
      typing: () => this.typing(),
      assign: (email) => this.guard(() => this.change({ assignee: email })),
      setStatus: (status: Status) => this.guard(() => this.change({ status })),
      allowNotifications: () => void Attention.ask().then(() => this.view.hideNotificationButton()),
    });
    mount.replaceChildren(this.view.root);
    this.attention = new Attention(document.title, () => this.markReadIfOpen());
  }

  async start() {
    await this.guard(async () => {
      const { email, apps } = await deskApps();
      const remembered = localStorage.getItem(LAST_APP_KEY);
      const appId = apps.some((app) => app._id === remembered) ? remembered! : (apps[0]?._id ?? null);
      this.view.setIdentity(email, apps, appId, Attention.askable());
      if (appId) await this.pickApp(appId);
      else this.view.setList([], false, null);
    });
  }

  /** Runs an action; a failure shows as the page's error line (a lapsed Access sign-in reloads). */
  private async guard(action: () => Promise<void>) {
    try {
      await action();
      this.view.setError("");
    } catch (error) {
      if (error instanceof DeskError && error.status === 401) location.reload();
      this.view.setError(error instanceof Error ? error.message : String(error));
    }
  }

  private async pickApp(appId: string) {
    this.live?.stop();
    this.closeConversation();
    this.search = null;
    this.view.clearSearchInput();
    localStorage.setItem(LAST_APP_KEY, appId);
    const api = new AppApi(appId);
    this.api = api;
    const { me, agents } = await api.agents();
    this.me = me;
    this.agents = agents;
    await this.loadList();
    this.live = new LiveChannel(api.liveUrl(), {
      event: (event) => this.onLive(api, event),
      opened: (reconnected) => {
        this.view.setLive(true);
        if (reconnected) void this.guard(() => this.catchUp());
      },
      closed: () => this.view.setLive(false),
    });
  }

  private async loadList() {
    const api = this.api!;
    const read = ++this.listRead;
    const page = await api.conversations(this.filter, this.me.email);
    if (read !== this.listRead || api !== this.api) return;
    this.entries = page.conversations;
    this.hasMore = page.hasMore;
    for (const entry of this.entries) this.remember(entry);
    if (!this.search) this.renderList();
  }

  private renderList() {
    const openId = this.open?.appUserId ?? null;
    if (this.search) this.view.setResults(this.search.results, this.search.hasMore, openId);
    else this.view.setList(this.entries, this.hasMore, openId);
  }

  private async runSearch(q: string) {
    const page = await this.api!.search(q);
    this.search = { q, results: page.results, hasMore: page.hasMore };
    this.renderList();
  }

  private async more() {
    const api = this.api!;
    if (this.search) {
      const search = this.search;
      const page = await api.search(search.q, search.results.at(-1)?.message.received);
      search.results.push(...page.results);
      search.hasMore = page.hasMore;
    } else {
      const read = this.listRead;
      const page = await api.conversations(this.filter, this.me.email, this.entries.at(-1)?.lastActivity ?? undefined);
      if (read !== this.listRead) return;
      this.entries = appendPage(this.entries, page.conversations);
      this.hasMore = page.hasMore;
    }
    this.renderList();
  }

  private entryOf(appUserId: string) {
    return this.entries.find((entry) => entry.appUser._id === appUserId);
  }

  private async openConversation(appUserId: string) {
    const api = this.api!;
    this.stopTyping();
    // A conversation the loaded list does not hold (a search result, a filtered-out one): its
    // entry is read too, so that the status and assignee controls show where it stands.
    const listed = this.entryOf(appUserId);
    const [history, read] = await Promise.all([
      api.history(appUserId),
      listed ?? api.conversation(appUserId).then((answer) => answer.conversation),
    ]);
    if (api !== this.api) return;
    // A live change that came in meanwhile is newer than the read.
    const entry = this.entryOf(appUserId) ?? read;
    this.remember(entry);
    this.open = { appUserId, appUser: history.appUser, messages: history.messages, hasOlder: history.hasOlder, devices: history.devices };
    this.view.showConversation(true);
    this.view.setTyping(null);
    this.view.markOpen(appUserId);
    this.view.setConversation(entry, userLabel(history.appUser), this.me, this.agents);
    this.renderMessages("opened");
    renderProfile(this.view.profile, history.appUser, history.devices);
    this.view.focusComposer();
    await this.markRead();
  }

  private closeConversation() {
    const wasOpen = this.open?.appUserId;
    this.stopTyping();
    this.open = null;
    this.view.showConversation(false);
    this.view.markOpen(null);
    if (wasOpen) this.view.focusEntry(wasOpen);
  }

  private authorOf = (message: Message) => (message.role === "appUser" ? userLabel(this.open!.appUser) : (message.name ?? "Business"));

  private renderMessages(mode: "opened" | "older" | "newer") {
    const open = this.open!;
    this.view.setMessages(open.messages, open.hasOlder, this.authorOf, this.mediaOrigins, mode);
  }

  private async older() {
    const open = this.open!;
    const page = await this.api!.history(open.appUserId, open.messages[0]?.received);
    if (open !== this.open) return;
    open.messages = mergeMessages(open.messages, page.messages);
    open.hasOlder = page.hasOlder;
    this.renderMessages("older");
  }

  /** The business read the open conversation: its unread count is 0, in the list at once. */
  private async markRead() {
    const open = this.open;
    if (!open) return;
    const entry = this.entryOf(open.appUserId);
    if (entry && entry.businessUnreadCount > 0) {
      entry.businessUnreadCount = 0;
      this.renderList();
    }
    await this.api!.read(open.appUserId);
  }

  private markReadIfOpen() {
    if (this.open && (this.entryOf(this.open.appUserId)?.businessUnreadCount ?? 0) > 0) void this.guard(() => this.markRead());
  }

  private addMessages(messages: Message[]) {
    const open = this.open!;
    open.messages = mergeMessages(open.messages, messages);
    this.renderMessages("newer");
  }

  /** The composer empties at once (the visitor may see the answer before its response is back); a failure puts the text back. */
  private async send(text: string) {
    const open = this.open!;
    this.stopTyping();
    this.view.setComposer("");
    try {
      const { message } = await this.api!.send(open.appUserId, text);
      if (open === this.open) this.addMessages([message]);
    } catch (error) {
      if (open === this.open) this.view.setComposer(text);
      throw error;
    }
  }

  private async sendImage(file: File) {
    const open = this.open!;
    const { message } = await this.api!.sendImage(open.appUserId, file);
    if (open === this.open) this.addMessages([message]);
  }

  /** The agent's typing, said once when it starts and once when it stops (idle, sent, or left). */
  private typing() {
    const open = this.open;
    if (!open) return;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
    if (this.typingSent) return;
    this.typingSent = true;
    this.api!.typing(open.appUserId, true).catch(() => undefined);
  }

  private stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent || !this.open) return;
    this.typingSent = false;
    this.api!.typing(this.open.appUserId, false).catch(() => undefined);
  }

  private async change(changes: { status?: Status; assignee?: string | null }) {
    const open = this.open!;
    const { conversation } = await this.api!.change(open.appUserId, changes);
    this.applyEntry(conversation);
  }

  private remember(entry: Entry) {
    if (entry.lastMessage) this.lastSeen.set(entry.appUser._id, entry.lastMessage._id);
  }

  /** A conversation changed: the list, the open conversation, and the agent's attention. */
  private applyEntry(entry: Entry) {
    const appUserId = entry.appUser._id;
    const message = entry.lastMessage;
    const isNew = message !== null && this.lastSeen.get(appUserId) !== message._id;
    this.remember(entry);
    this.entries = applyChange(this.entries, entry, keeps(this.filter, this.me.email, entry), this.hasMore);
    if (this.open?.appUserId === appUserId) {
      this.open.appUser = withListed(this.open.appUser, entry.appUser);
      renderProfile(this.view.profile, this.open.appUser, this.open.devices);
      this.view.setConversation(entry, userLabel(this.open.appUser), this.me, this.agents);
      if (isNew && message && !this.open.messages.some((m) => m._id === message._id)) {
        if (message.role === "appUser") this.view.setTyping(null);
        this.addMessages([message]);
        if (message.role === "appUser" && !document.hidden) void this.guard(() => this.markRead());
      }
    }
    this.renderList();
    if (isNew && message && message.role === "appUser" && message.received >= this.startedAt) {
      const name = userLabel(entry.appUser);
      this.attention.notice(name, message.text || "Image", appUserId, () => void this.guard(() => this.openConversation(appUserId)));
    }
  }

  private onLive(api: AppApi, event: LiveEvent) {
    if (api !== this.api) return;
    if (event.type === "conversation") this.applyEntry(event.conversation);
    else if (event.type === "removed") {
      this.entries = this.entries.filter((entry) => entry.appUser._id !== event.appUserId);
      if (this.open?.appUserId === event.appUserId) this.closeConversation();
      this.renderList();
    } else if (event.type === "erased" && this.open?.appUserId === event.appUserId) {
      this.open.messages = this.open.messages.filter((message) => message._id !== event.messageId);
      this.renderMessages("newer");
    } else if (event.type === "typing" && this.open?.appUserId === event.appUserId) {
      clearTimeout(this.userTypingTimer);
      this.view.setTyping(event.active ? userLabel(this.open.appUser) : null);
      if (event.active) this.userTypingTimer = setTimeout(() => this.view.setTyping(null), USER_TYPING_MS);
    }
  }

  /** After the live channel was closed a while: the list, and the open conversation's newest page, read again. */
  private async catchUp() {
    await this.loadList();
    const open = this.open;
    if (!open) return;
    const page = await this.api!.history(open.appUserId);
    if (open === this.open) this.addMessages(page.messages);
  }
}
