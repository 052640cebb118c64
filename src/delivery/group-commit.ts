/**
 * Writes that many callers make at about the same time, grouped: one write in flight at a time,
 * carrying everything added while the previous one ran. Each caller's promise settles with the
 * write that carried its item, so a caller still acts only once its own item is stored.
 */
export class GroupCommit<Item> {
  private waiting: Array<{ item: Item; stored: () => void; failed: (error: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly write: (items: Item[]) => Promise<unknown>) {}

  add(item: Item): Promise<void> {
    return new Promise((stored, failed) => {
      this.waiting.push({ item, stored, failed });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      try {
        await this.write(group.map((entry) => entry.item));
        for (const entry of group) entry.stored();
      } catch (error) {
        for (const entry of group) entry.failed(error);
      }
    }
    this.writing = false;
  }
}
