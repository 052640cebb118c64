import type { IntegrationKind } from "../../integrations/kind";
import { toHex } from "../../lib/hex";

export type EmailInput = { type: "email"; to: string[]; fromName?: string };

/** A fresh key for the integration's reply addresses (token.ts): 256 random bits, in hex. */
export const newTokenKey = () => toHex(crypto.getRandomValues(new Uint8Array(32)));

export const emailIntegration: IntegrationKind<EmailInput> = {
  async configure({ to, fromName }) {
    return { type: "email", public: { to, fromName: fromName ?? null }, secret: { tokenKey: newTokenKey() } };
  },
};
