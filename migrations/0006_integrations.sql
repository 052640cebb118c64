-- Push channels (src/integrations/, src/push/): at most one integration of each type per app.
-- `public` is what responses show; `secret` (a service account's private key, an APNs .p8 key,
-- a VAPID private key) is read only to sign, and never returned.
CREATE TABLE integrations (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('fcm', 'apn', 'webpush')),
  public TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (app_id, type)
);
