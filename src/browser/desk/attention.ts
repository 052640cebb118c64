/**
 * What calls the agent back while the Desk is in the background: the count of new messages in
 * the tab's title and, once the agent allows it, a browser notification for each.
 */
export class Attention {
  private unseen = 0;

  constructor(
    private readonly baseTitle: string,
    private readonly onVisible: () => void,
  ) {
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) return;
      this.unseen = 0;
      document.title = this.baseTitle;
      this.onVisible();
    });
  }

  /** Whether the agent may still be asked to allow notifications. */
  static askable(): boolean {
    return typeof Notification === "function" && Notification.permission === "default";
  }

  /** Asks the browser (it asks the agent); answers whether notifications are allowed now. */
  static async ask(): Promise<boolean> {
    if (typeof Notification !== "function") return false;
    return (await Notification.requestPermission()) === "granted";
  }

  /** A new message or conversation: counted and notified while the tab is hidden, else nothing. */
  notice(title: string, body: string, tag: string, open: () => void) {
    if (!document.hidden) return;
    this.unseen++;
    document.title = `(${this.unseen}) ${this.baseTitle}`;
    if (typeof Notification !== "function" || Notification.permission !== "granted") return;
    const notification = new Notification(title, { body, tag });
    notification.onclick = () => {
      window.focus();
      open();
      notification.close();
    };
  }
}
