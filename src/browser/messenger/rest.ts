import type { AppInfo, AppUser, Message } from "./types.ts";

/** A refused or failed call to Parley, with the API's own error code when it sent one. */
export class ParleyError extends Error {
  override name = "ParleyError";
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

export interface Credentials {
  appToken: string;
  jwt?: string;
}

export interface MessagesPage {
  messages: Message[];
  conversation: { _id: string; unreadCount: number };
  previous?: string;
}

/** Parley's REST API as the messenger calls it: the app token, or the user's JWT when given. */
export class Rest {
  constructor(
    readonly serviceUrl: string,
    private readonly credentials: Credentials,
  ) {}

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = this.credentials.jwt
      ? { authorization: `Bearer ${this.credentials.jwt}` }
      : { "app-token": this.credentials.appToken };
    if (json) headers["content-type"] = "application/json";
    return headers;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.serviceUrl}/v1${path}`, {
        method,
        headers: this.headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ParleyError(0, "network_error", String(error));
    }
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new ParleyError(response.status, json?.error?.code ?? "error", json?.error?.description ?? response.statusText);
    return json as T;
  }

  init(body: Record<string, unknown>) {
    return this.call<{ app: AppInfo; appUser: AppUser }>("POST", "/init", body);
  }

  user(appUserId: string, path = "") {
    return `/appusers/${encodeURIComponent(appUserId)}${path}`;
  }

  messages(appUserId: string, before?: number) {
    return this.call<MessagesPage>("GET", this.user(appUserId, `/messages${before === undefined ? "" : `?before=${before}`}`));
  }

  /**
   * Uploads an image as multipart (XMLHttpRequest: fetch reports no upload progress), calling
   * `progress` with 0..1 as the bytes leave.
   */
  upload(appUserId: string, fields: Record<string, string>, file: Blob, progress: (fraction: number) => void): Promise<{ message: Message }> {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      form.append("source", file, (file as File).name ?? "image");
      const request = new XMLHttpRequest();
      request.open("POST", `${this.serviceUrl}/v1${this.user(appUserId, "/images")}`);
      for (const [name, value] of Object.entries(this.headers(false))) request.setRequestHeader(name, value);
      request.upload.onprogress = (event) => event.lengthComputable && progress(event.loaded / event.total);
      request.onload = () => {
        let json: any = {};
        try {
          json = JSON.parse(request.responseText);
        } catch {
          // An answer without JSON: described by its status.
        }
        if (request.status >= 200 && request.status < 300) resolve(json);
        else reject(new ParleyError(request.status, json?.error?.code ?? "error", json?.error?.description ?? `status ${request.status}`));
      };
      request.onerror = () => reject(new ParleyError(0, "network_error", "the upload failed"));
      request.send(form);
    });
  }
}
