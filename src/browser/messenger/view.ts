import { actionControl, linkParts, messageTime } from "./content.ts";
import { append, h, icon, ICONS } from "./dom.ts";
import { STYLES } from "./styles.ts";
import { fill, type Texts } from "./texts.ts";
import type { Theme } from "./theme.ts";
import type { Action, AppInfo, Connection, Entry, Message, Pending } from "./types.ts";

export interface ViewActions {
  open: () => void;
  close: () => void;
  send: (text: string) => void;
  sendImage: (file: File) => void;
  retry: (localId: string) => void;
  postback: (action: Action) => void;
  reply: (action: Action) => void;
  /** Asks the browser for the visitor's position (the browser asks their consent) and sends it. */
  locationRequest: () => void;
  /** Shares the message (the system's share sheet, else the clipboard). */
  share: (message: Message, action: Action) => void;
  loadOlder: () => void;
}

/** How near the bottom (px) the visitor must be for new messages to scroll into view. */
const STICK_TO_BOTTOM_PX = 80;
/** Scrolled this near the top, the next older page loads. */
const LOAD_OLDER_PX = 40;

/**
 * The messenger on the page: a launcher with its unread badge, and a conversation panel, in a
 * shadow root. It shows what it is given and reports what the visitor does; it keeps no state of
 * the conversation.
 */
export class View {
  private readonly host = document.createElement("parley-messenger");
  private readonly root: HTMLDivElement;
  private readonly panel: HTMLElement;
  private readonly launcher: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly title: HTMLHeadingElement;
  private logo: HTMLElement;
  private readonly status: HTMLDivElement;
  private readonly scroller: HTMLDivElement;
  private readonly older: HTMLButtonElement;
  private readonly log: HTMLOListElement;
  private readonly typing: HTMLDivElement;
  private readonly replies: HTMLDivElement;
  private readonly input: HTMLTextAreaElement;
  private readonly file: HTMLInputElement;
  /** Rendered message elements by message _id or pending localId, with what they were drawn from. */
  private readonly rendered = new Map<string, { element: HTMLLIElement; drawn: unknown }>();
  private businessName: string;

  constructor(
    private readonly texts: Texts,
    private readonly actions: ViewActions,
  ) {
    this.businessName = texts.businessName;
    const shadow = this.host.attachShadow({ mode: "open" });
    if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      shadow.adoptedStyleSheets = [sheet];
    } else {
      shadow.appendChild(h("style", {}, STYLES));
    }
    this.title = h("h2", { id: "parley-title" }, texts.headerText);
    this.logo = h("span", { class: "logo" }, icon(ICONS.chat));
    this.status = h("div", { class: "status", role: "status", hidden: true });
    this.older = h("button", { type: "button", class: "older", hidden: true, onclick: () => actions.loadOlder() }, texts.fetchHistory);
    this.log = h("ol", { class: "log" });
    this.typing = h("div", { class: "typing", role: "status" });
    this.scroller = h(
      "div",
      { class: "scroller", onscroll: () => this.scroller.scrollTop < LOAD_OLDER_PX && !this.older.hidden && actions.loadOlder() },
      this.older,
      h("p", { class: "intro" }, texts.introductionText),
      // The live region around the list (a list with role=log would no longer be a list).
      h("div", { role: "log", "aria-live": "polite", "aria-label": texts.messagesLabel }, this.log),
      this.typing,
    );
    this.replies = h("div", { class: "replies", role: "group", "aria-label": "Suggested replies", hidden: true });
    this.input = h("textarea", { rows: 1, "aria-label": texts.inputPlaceholder, placeholder: texts.inputPlaceholder, onkeydown: (event: KeyboardEvent) => this.onInputKey(event) });
    this.file = h("input", {
      type: "file",
      accept: "image/*",
      hidden: true,
      tabindex: -1,
      "aria-hidden": "true",
      onchange: () => {
        const file = this.file.files?.[0];
        this.file.value = "";
        if (file) actions.sendImage(file);
      },
    });
    const composer = h(
      "form",
      { class: "composer", onsubmit: (event: Event) => (event.preventDefault(), this.submit()) },
      h("button", { type: "button", class: "icon-button", "aria-label": texts.uploadImageText, title: texts.uploadImageText, onclick: () => this.file.click() }, icon(ICONS.image)),
      this.file,
      this.input,
      h("button", { type: "submit", class: "icon-button send", "aria-label": texts.sendButtonText, title: texts.sendButtonText }, icon(ICONS.send)),
    );
    this.panel = h(
      "section",
      { class: "panel", id: "parley-panel", role: "dialog", "aria-labelledby": "parley-title", hidden: true, onkeydown: (event: KeyboardEvent) => event.key === "Escape" && actions.close() },
      h(
        "header",
        { class: "header" },
        this.logo,
        h("div", { class: "titles" }, this.title, h("p", {}, texts.headerText)),
        h("button", { type: "button", class: "icon-button", "aria-label": texts.closeButtonText, title: texts.closeButtonText, onclick: () => actions.close() }, icon(ICONS.close)),
      ),
      this.status,
      this.scroller,
      this.replies,
      composer,
    );
    this.badge = h("span", { class: "badge", hidden: true });
    this.launcher = h(
      "button",
      { type: "button", class: "launcher", "aria-label": texts.openButtonText, "aria-expanded": "false", "aria-controls": "parley-panel", onclick: () => (this.isOpen ? actions.close() : actions.open()) },
      icon(ICONS.chat),
      this.badge,
    );
    this.root = h("div", { class: "root" }, this.panel, this.launcher);
    shadow.appendChild(this.root);
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  mount(): void {
    document.body.appendChild(this.host);
  }

  remove(): void {
    this.host.remove();
  }

  setApp(app: AppInfo, theme: Theme): void {
    this.businessName = app.name || this.texts.businessName;
    this.title.textContent = app.name || this.texts.headerText;
    if (app.iconUrl) this.logo.replaceWith((this.logo = h("img", { src: app.iconUrl, alt: "" })));
    const style = this.host.style;
    style.setProperty("--accent", theme.accent);
    style.setProperty("--on-accent", theme.onAccent);
    style.setProperty("--brand", theme.brand);
    style.setProperty("--on-brand", theme.onBrand);
  }

  /** Opens or closes the panel; `focus` moves focus into it, or back to the launcher. */
  setOpen(open: boolean, focus: boolean): void {
    this.panel.hidden = !open;
    this.root.toggleAttribute("data-open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      this.scrollToBottom();
      if (focus) this.input.focus();
    } else if (focus) {
      this.launcher.focus();
    }
  }

  setUnread(count: number): void {
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 99 ? "99+" : String(count);
    this.launcher.setAttribute("aria-label", count ? `${this.texts.openButtonText}, ${fill(this.texts.unreadLabel, { count })}` : this.texts.openButtonText);
  }

  setTyping(name: string | null): void {
    this.typing.textContent = name === null ? "" : fill(this.texts.typingText, { name: name || this.businessName });
    if (name !== null && this.nearBottom()) this.scrollToBottom();
  }

  setConnection(connection: Connection): void {
    this.status.hidden = connection === "online";
    this.status.textContent = connection === "offline" ? this.texts.offlineText : connection === "connecting" ? this.texts.connectingText : "";
  }

  setLoadingOlder(loading: boolean, hasOlder: boolean): void {
    this.older.hidden = !hasOlder;
    this.older.disabled = loading;
    this.older.textContent = loading ? this.texts.fetchingHistory : this.texts.fetchHistory;
  }

  showNotice(text: string): void {
    this.status.hidden = false;
    this.status.textContent = text;
  }

  setProgress(localId: string, fraction: number): void {
    const progress = this.rendered.get(localId)?.element.querySelector("progress");
    if (progress) progress.value = fraction;
  }

  /** Draws the entries in order, reusing what is unchanged; keeps the visitor's place when older messages come in above. */
  renderMessages(entries: Entry[]): void {
    const stick = this.nearBottom();
    const heightBefore = this.scroller.scrollHeight;
    const firstBefore = this.log.firstElementChild;
    const keep = new Set<string>();
    let previous: Message | undefined;
    for (const entry of entries) {
      const key = entry.kind === "stored" ? entry.message._id : entry.pending.localId;
      keep.add(key);
      const drawn = entry.kind === "stored" ? `${entry.message._id}:${this.showsAuthor(entry.message, previous)}` : entry.pending.status;
      let rendered = this.rendered.get(key);
      if (!rendered || rendered.drawn !== drawn) {
        const element = entry.kind === "stored" ? this.stored(entry.message, previous) : this.pending(entry.pending);
        rendered?.element.replaceWith(element);
        rendered = { element, drawn };
        this.rendered.set(key, rendered);
      }
      this.log.appendChild(rendered.element);
      previous = entry.kind === "stored" ? entry.message : undefined;
    }
    for (const [key, { element }] of this.rendered) {
      if (!keep.has(key)) {
        element.remove();
        this.rendered.delete(key);
      }
    }
    this.renderReplies(entries);
    if (stick) this.scrollToBottom();
    else if (firstBefore && this.log.firstElementChild !== firstBefore) this.scroller.scrollTop += this.scroller.scrollHeight - heightBefore;
  }

  private showsAuthor(message: Message, previous: Message | undefined): boolean {
    return message.role !== "appUser" && (!previous || previous.role !== message.role || previous.name !== message.name);
  }

  private stored(message: Message, previous: Message | undefined): HTMLLIElement {
    const mine = message.role === "appUser";
    const buttons = (message.actions ?? []).filter((action) => action.type !== "reply");
    const time = messageTime(message.received);
    // Focusable, so that the time shows from the keyboard as it does on hover.
    return h(
      "li",
      { class: `msg ${mine ? "mine" : "theirs"}`, tabindex: 0 },
      this.showsAuthor(message, previous) && h("span", { class: "author" }, message.name || this.businessName),
      message.type === "image" && message.mediaUrl
        ? h("div", { class: "bubble picture" }, h("img", { src: message.mediaUrl, alt: this.texts.imageLabel }))
        : h("div", { class: "bubble" }, ...this.linked(message.text)),
      buttons.length > 0 && h("div", { class: "actions" }, ...buttons.map((action) => this.action(message, action))),
      h("time", { class: "time", datetime: time.iso }, time.label),
    );
  }

  /** The text with its http(s) URLs as links that open in a new tab, built as nodes (never as HTML). */
  private linked(text: string): (Node | string)[] {
    return linkParts(text ?? "").map((part) =>
      "href" in part ? h("a", { href: part.href, target: "_blank", rel: "noopener noreferrer" }, part.text) : part.text,
    );
  }

  private action(message: Message, action: Action): HTMLElement | null {
    const control = actionControl(action, this.texts);
    if (!control) return null;
    const button = (onclick: () => void) => h("button", { type: "button", class: "action", onclick }, control.label);
    switch (control.kind) {
      case "link":
        return h("a", { class: "action", href: control.href, target: "_blank", rel: "noopener noreferrer" }, control.label);
      case "postback":
        return button(() => this.actions.postback(action));
      case "locationRequest":
        return button(() => this.actions.locationRequest());
      case "share":
        return button(() => this.actions.share(message, action));
      case "offer":
        // Parley takes no payments: the offer is shown, and says it cannot be bought here.
        return h("div", { class: "action offer", title: this.texts.offerNote }, control.label, h("span", { class: "sr-only" }, ` ${this.texts.offerNote}`));
    }
  }

  private pending(pending: Pending): HTMLLIElement {
    const failed = pending.status === "failed";
    return h(
      "li",
      { class: `msg mine pending${failed ? " failed" : ""}` },
      pending.image
        ? h("div", { class: "bubble picture" }, h("img", { src: pending.image.previewUrl, alt: this.texts.imageLabel }))
        : h("div", { class: "bubble" }, pending.text),
      h(
        "span",
        { class: "meta" },
        failed
          ? h("span", {}, this.texts.messageError, h("button", { type: "button", onclick: () => this.actions.retry(pending.localId) }, this.texts.messageRetry))
          : pending.image
            ? h("progress", { max: 1, value: pending.image.progress, "aria-label": this.texts.messageSending })
            : this.texts.messageSending,
      ),
    );
  }

  /** Quick replies of the newest message, when the business wrote it: chips above the input. */
  private renderReplies(entries: Entry[]): void {
    const last = entries.at(-1);
    const replies = last?.kind === "stored" && last.message.role !== "appUser" ? (last.message.actions ?? []).filter((a) => a.type === "reply") : [];
    this.replies.replaceChildren();
    append(this.replies, replies.map((action) => h("button", { type: "button", class: "chip", onclick: () => this.actions.reply(action) }, action.text ?? "")));
    this.replies.hidden = replies.length === 0;
  }

  private onInputKey(event: KeyboardEvent): void {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  private submit(): void {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = "";
    this.actions.send(text);
  }

  private nearBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_TO_BOTTOM_PX;
  }

  private scrollToBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
