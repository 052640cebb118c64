/** The events Parley.on() offers, as Smooch.on() names them. */
export type EventName = "ready" | "destroy" | "message:received" | "message:sent" | "unreadCount";

export class Emitter {
  private readonly listeners = new Map<string, Set<(value?: unknown) => void>>();

  on(name: EventName, listener: (value?: any) => void): void {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name)!.add(listener);
  }

  off(name?: EventName, listener?: (value?: any) => void): void {
    if (!name) this.listeners.clear();
    else if (!listener) this.listeners.delete(name);
    else this.listeners.get(name)?.delete(listener);
  }

  emit(name: EventName, value?: unknown): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        listener(value);
      } catch (error) {
        console.error(`Parley: a '${name}' listener threw`, error);
      }
    }
  }
}
