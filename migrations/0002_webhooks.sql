-- Webhooks and the record of their deliveries.

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  target TEXT NOT NULL,
  triggers TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX webhooks_by_app ON webhooks(app_id, created_at);

-- One row per delivery (a message to a webhook), updated after each attempt by the queue consumers.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  message_id TEXT NOT NULL,
  trigger TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('retrying', 'delivered', 'failed')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, created_at DESC);
