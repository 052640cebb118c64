// The Desk's page: the header with the app picker, the conversation list with its filters and
// search, the open conversation with its composer, and the profile panel. It shows what it is
// given and reports what the agent does; the state is the controller's (desk.ts).
import { h, icon, ICONS } from "../messenger/dom.ts";
import { arrowKeys, entryItems, resultItems } from "./list-view.ts";
import { messageItem } from "./messages-view.ts";
import { STYLES } from "./styles.ts";
import type { Agent, DeskApp, Entry, ListFilter, Message, SearchResult, Status } from "./types.ts";

export interface ViewActions {
  pickApp: (appId: string) => void;
  filter: (filter: ListFilter) => void;
  search: (q: string) => void;
  clearSearch: () => void;
  more: () => void;
  open: (appUserId: string) => void;
  back: () => void;
  older: () => void;
  send: (text: string) => void;
  sendImage: (file: File) => void;
  typing: () => void;
  assign: (email: string | null) => void;
  setStatus: (status: Status) => void;
  allowNotifications: () => void;
}

/** How near the bottom (px) the agent must be for a new message to scroll into view. */
const STICK_TO_BOTTOM_PX = 80;

export class DeskView {
  readonly root: HTMLDivElement;
  private readonly appSelect = h("select", { id: "app", "aria-label": "App" });
  private readonly notify: HTMLButtonElement;
  private readonly who = h("span", { class: "who" });
  private readonly connection = h("span", { class: "connection", role: "status" });
  private readonly status = h("select", { "aria-label": "Show conversations" }, h("option", { value: "open" }, "Open"), h("option", { value: "closed" }, "Closed"), h("option", { value: "all" }, "All"));
  private readonly mine = h("input", { type: "checkbox" });
  private readonly userFilter = h("input", { type: "search", "aria-label": "Filter by user", placeholder: "Filter by user" });
  private readonly searchInput = h("input", { type: "search", "aria-label": "Search messages", placeholder: "Search messages" });
  private readonly clear: HTMLButtonElement;
  private readonly listHeading = h("h2", { class: "sr-only", id: "list-title" }, "Conversations");
  private readonly list = h("ul", { class: "list", role: "list", "aria-labelledby": "list-title" });
  private readonly empty = h("p", { class: "empty", role: "status" });
  private readonly moreButton: HTMLButtonElement;
  private readonly conversation = h("section", { class: "conversation", "aria-labelledby": "conversation-title" });
  private readonly placeholder = h("div", { class: "placeholder" }, "Pick a conversation.");
  private readonly title = h("h2", { id: "conversation-title" }, "No conversation open");
  private readonly assignee = h("select", { "aria-label": "Assignee" });
  private readonly statusButton: HTMLButtonElement;
  private readonly scroller = h("div", { class: "scroll" });
  private readonly olderButton: HTMLButtonElement;
  private readonly log = h("ol", { class: "log" });
  private readonly typingLine = h("div", { class: "typing", role: "status" });
  private readonly error = h("p", { class: "error", role: "alert" });
  private readonly input = h("textarea", { id: "reply", rows: 2, placeholder: "Write a reply (Enter sends, Shift+Enter for a new line)" });
  private readonly file = h("input", { type: "file", accept: "image/*", class: "sr-only" });
  private readonly head: HTMLDivElement;
  private readonly composer: HTMLFormElement;
  readonly profile = h("aside", { class: "profile", "aria-labelledby": "profile-title" });
  private currentStatus: Status = "open";

  constructor(private readonly actions: ViewActions) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

    this.notify = h("button", { type: "button", class: "button", hidden: true, onclick: () => actions.allowNotifications() }, "Allow notifications");
    this.appSelect.addEventListener("change", () => actions.pickApp(this.appSelect.value));
    const filterChanged = () => actions.filter(this.currentFilter());
    this.status.addEventListener("change", filterChanged);
    this.mine.addEventListener("change", filterChanged);
    let debounce: ReturnType<typeof setTimeout> | undefined;
    this.userFilter.addEventListener("input", () => {
      clearTimeout(debounce);
      debounce = setTimeout(filterChanged, 250);
    });
    this.clear = h("button", { type: "button", class: "button", hidden: true, onclick: () => actions.clearSearch() }, "Clear search");
    const searchForm = h(
      "form",
      { role: "search", onsubmit: (event: Event) => (event.preventDefault(), this.searchInput.value.trim() && actions.search(this.searchInput.value.trim())) },
      this.searchInput,
      h("button", { type: "submit", class: "button" }, "Search"),
      this.clear,
    );
    this.moreButton = h("button", { type: "button", class: "button more", hidden: true, onclick: () => actions.more() }, "Load more");
    arrowKeys(this.list);

    this.statusButton = h("button", { type: "button", class: "button", onclick: () => actions.setStatus(this.currentStatus === "open" ? "closed" : "open") });
    this.assignee.addEventListener("change", () => actions.assign(this.assignee.value || null));
    this.head = h(
      "div",
      { class: "conversation-head" },
      h("button", { type: "button", class: "button back", onclick: () => actions.back() }, "Back to the list"),
      this.title,
      this.assignee,
      this.statusButton,
      h("button", { type: "button", class: "button profile-toggle", "aria-pressed": "false", onclick: (event: Event) => this.toggleProfile(event.currentTarget as HTMLButtonElement) }, "Profile"),
    );
    this.olderButton = h("button", { type: "button", class: "button more", hidden: true, onclick: () => actions.older() }, "Load earlier messages");
    // The log region holds the list (a list with role="log" would no longer be a list).
    this.scroller.append(this.olderButton, h("div", { role: "log", "aria-label": "Messages" }, this.log));
    this.input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("input", () => actions.typing());
    this.file.addEventListener("change", () => {
      const chosen = this.file.files?.[0];
      if (chosen) actions.sendImage(chosen);
      this.file.value = "";
    });
    this.composer = h(
      "form",
      { class: "composer", onsubmit: (event: Event) => (event.preventDefault(), this.submit()) },
      h("label", { for: "reply", class: "sr-only" }, "Reply"),
      this.input,
      h("label", { class: "icon-button file-label", title: "Send an image" }, icon(ICONS.image), h("span", { class: "sr-only" }, "Send an image"), this.file),
      h("button", { type: "submit", class: "icon-button", "aria-label": "Send" }, icon(ICONS.send)),
    );
    this.conversation.append(this.head, this.placeholder, this.scroller, this.typingLine, this.error, this.composer);

    this.root = h(
      "div",
      { class: "desk" },
      h(
        "header",
        { class: "top" },
        h("h1", {}, "Parley Desk"),
        h("label", { for: "app", class: "sr-only" }, "App"),
        this.appSelect,
        this.notify,
        this.connection,
        this.who,
      ),
      h(
        "main",
        { class: "panes" },
        h(
          "section",
          { class: "sidebar", "aria-labelledby": "list-title" },
          this.listHeading,
          h("div", { class: "filters" }, this.status, h("label", { class: "check" }, this.mine, "Mine"), this.userFilter, searchForm),
          h("div", { class: "scroll" }, this.list, this.empty, this.moreButton),
        ),
        this.conversation,
        this.profile,
      ),
    );
    this.showConversation(false);
  }

  private submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.actions.send(text);
  }

  private toggleProfile(button: HTMLButtonElement) {
    const on = !this.root.hasAttribute("data-profile");
    this.root.toggleAttribute("data-profile", on);
    button.setAttribute("aria-pressed", String(on));
  }

  currentFilter(): ListFilter {
    return { status: this.status.value as ListFilter["status"], mine: this.mine.checked, q: this.userFilter.value };
  }

  setIdentity(email: string, apps: DeskApp[], appId: string | null, canAskNotifications: boolean) {
    this.who.textContent = email;
    this.appSelect.replaceChildren(...apps.map((app) => h("option", { value: app._id }, app.name)));
    if (appId) this.appSelect.value = appId;
    this.appSelect.disabled = apps.length === 0;
    this.notify.hidden = !canAskNotifications;
  }

  /** Says when the live channel is down (the list and conversation may lag until it is back). */
  setLive(up: boolean) {
    this.connection.textContent = up ? "" : "Reconnecting…";
  }

  hideNotificationButton() {
    this.notify.hidden = true;
  }

  /**
   * Redraws the list's items; the entry that had focus (a keyboard user's place in the list) keeps
   * it, wherever it moved.
   */
  private replaceItems(items: HTMLLIElement[]) {
    const focused = document.activeElement instanceof HTMLElement && this.list.contains(document.activeElement) ? document.activeElement.closest<HTMLElement>("button.entry")?.dataset.user : undefined;
    this.list.replaceChildren(...items);
    if (focused) this.focusEntry(focused);
  }

  /** The list, with the "more" button when there is more. */
  setList(entries: Entry[], hasMore: boolean, openId: string | null) {
    this.clear.hidden = true;
    this.listHeading.textContent = "Conversations";
    this.replaceItems(entryItems(entries, openId, this.actions.open));
    this.empty.textContent = entries.length === 0 ? "No conversation here." : "";
    this.moreButton.hidden = !hasMore;
  }

  setResults(results: SearchResult[], hasMore: boolean, openId: string | null) {
    this.clear.hidden = false;
    this.listHeading.textContent = "Search results";
    this.replaceItems(resultItems(results, openId, this.actions.open));
    this.empty.textContent = results.length === 0 ? "No message matches." : `${results.length}${hasMore ? "+" : ""} messages found.`;
    this.moreButton.hidden = !hasMore;
  }

  clearSearchInput() {
    this.searchInput.value = "";
  }

  /** Marks the open conversation in the list; focus stays where it is. */
  markOpen(appUserId: string | null) {
    for (const button of this.list.querySelectorAll<HTMLButtonElement>("button.entry")) {
      if (button.dataset.user === appUserId) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  focusEntry(appUserId: string) {
    this.list.querySelector<HTMLButtonElement>(`button.entry[data-user="${CSS.escape(appUserId)}"]`)?.focus();
  }

  /** The narrow layout shows the list or the conversation. */
  showConversation(open: boolean) {
    this.placeholder.hidden = open;
    for (const part of [this.head, this.scroller, this.typingLine, this.composer]) part.hidden = !open;
    if (!open) this.profile.replaceChildren();
    this.root.toggleAttribute("data-profile", false);
    this.root.setAttribute("data-view", open ? "conversation" : "list");
  }

  setConversation(entry: Entry, name: string, me: Agent, agents: Agent[]) {
    this.title.textContent = name;
    this.currentStatus = entry.status;
    this.statusButton.textContent = this.currentStatus === "open" ? "Close conversation" : "Reopen conversation";
    const assigned = entry.assignee;
    const others = agents.filter((agent) => agent.email !== me.email);
    if (assigned && assigned.email !== me.email && !others.some((agent) => agent.email === assigned.email)) others.push(assigned);
    this.assignee.replaceChildren(
      h("option", { value: "" }, "Unassigned"),
      h("option", { value: me.email }, `Me (${me.name})`),
      ...others.map((agent) => h("option", { value: agent.email }, `${agent.name} (${agent.email})`)),
    );
    this.assignee.value = assigned?.email ?? "";
    this.input.setAttribute("aria-describedby", "conversation-title");
  }

  focusComposer() {
    this.input.focus();
  }

  setComposer(text: string) {
    this.input.value = text;
  }

  /**
   * The history. `mode` says what changed: a conversation opened (to the bottom), older messages
   * came in above (the view stays on what the agent was reading), or new ones below (followed
   * when the agent was at the bottom).
   */
  setMessages(messages: Message[], hasOlder: boolean, authorOf: (message: Message) => string, mediaOrigins: string[], mode: "opened" | "older" | "newer") {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const atBottom = fromBottom - this.scroller.clientHeight < STICK_TO_BOTTOM_PX;
    this.log.replaceChildren(...messages.map((message) => messageItem(message, authorOf(message), mediaOrigins)));
    this.olderButton.hidden = !hasOlder;
    if (mode === "opened" || (mode === "newer" && atBottom)) this.scroller.scrollTop = this.scroller.scrollHeight;
    else if (mode === "older") this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
  }

  setTyping(name: string | null) {
    this.typingLine.textContent = name ? `${name} is typing…` : "";
  }

  setError(text: string) {
    this.error.textContent = text;
  }
}
