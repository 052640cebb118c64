// The few parts of the `faye` npm client (1.4) the suites use; it ships no types of its own.
declare module "faye" {
  namespace Faye {
    interface Extension {
      incoming?(message: any, callback: (message: unknown) => void): void;
      outgoing?(message: any, callback: (message: unknown) => void): void;
    }
    class Client {
      constructor(endpoint: string, options?: { timeout?: number; retry?: number });
      disable(transport: string): void;
      addExtension(extension: Extension): void;
      subscribe(channel: string, callback: (message: any) => void): Promise<void> & { cancel(): void };
      on(event: "transport:up" | "transport:down", callback: () => void): void;
      disconnect(): Promise<void>;
    }
  }
  export default Faye;
}
