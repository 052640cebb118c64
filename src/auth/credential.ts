/** Who is calling, as established by an app token or a verified JWT. */
export type Credential =
  | { kind: "appToken"; appId: string }
  | { kind: "jwt"; scope: "appUser"; appId: string; keyId: string; userId: string }
  | { kind: "jwt"; scope: "app"; appId: string; keyId: string }
  | { kind: "jwt"; scope: "account"; keyId: string };

/** Server-to-server credentials: an app-scope JWT, or the account acting on one of its apps. */
export const isServerCredential = (credential: Credential) =>
  credential.kind === "jwt" && (credential.scope === "app" || credential.scope === "account");

