-- The integrations resource holds every channel's configuration, not only push channels: Slack
-- and email join fcm, apn and webpush (still one of each type per app).
CREATE TABLE integrations_new (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('fcm', 'apn', 'webpush', 'slack', 'email')),
  public TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (app_id, type)
);
INSERT INTO integrations_new SELECT id, app_id, type, public, secret, created_at FROM integrations;
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
