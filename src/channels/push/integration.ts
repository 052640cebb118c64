import type { IntegrationKind } from "../../integrations/kind";
import { newVapidKeys, signingKey } from "./keys";

/** A service account key file as Google issues it: the fields Parley reads. */
export interface ServiceAccount {
  project_id: string;
  private_key_id?: string;
  private_key: string;
  client_email: string;
}

export type FcmInput = { type: "fcm"; serviceAccount: ServiceAccount; senderId?: string };
export type ApnInput = { type: "apn"; keyId: string; teamId: string; bundleId: string; key: string; production: boolean };
export type WebPushInput = { type: "webpush" };

export const fcmIntegration: IntegrationKind<FcmInput> = {
  async configure({ serviceAccount: account, senderId }) {
    await signingKey(account.private_key, "RS256", "serviceAccount.private_key");
    return {
      type: "fcm",
      public: { projectId: account.project_id, clientEmail: account.client_email, senderId: senderId ?? null },
      secret: { privateKeyId: account.private_key_id ?? null, privateKey: account.private_key },
    };
  },
};

export const apnIntegration: IntegrationKind<ApnInput> = {
  async configure({ keyId, teamId, bundleId, production, key }) {
    await signingKey(key, "ES256", "key");
    return { type: "apn", public: { keyId, teamId, bundleId, production }, secret: { key } };
  },
};

export const webPushIntegration: IntegrationKind<WebPushInput> = {
  async configure() {
    const keys = await newVapidKeys();
    return { type: "webpush", public: { vapidPublicKey: keys.publicKey }, secret: { vapidPrivateKey: keys.privateKey } };
  },
};
