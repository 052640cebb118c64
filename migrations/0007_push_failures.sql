-- Push notifications (src/push/).

-- Pushes that did not go out at their first attempt: waiting for a retry (with the reason), sent
-- after all, failed for good (the dead-letter queue's verdict keeps the last reason), or refused
-- because the device's token is dead. A push sent at once writes nothing. device_id is '' for the
-- fan-out of a message to its user's devices. Pruned like the webhook delivery log.
CREATE TABLE push_failures (
  message_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  app_user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  attempts INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  outcome TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, device_id)
);
CREATE INDEX push_failures_by_app ON push_failures(app_id, created_at);
CREATE INDEX push_failures_by_user ON push_failures(app_user_id);

-- The push fan-out reads a user's devices with a token, whose current user it is.
CREATE INDEX devices_by_active_user ON devices(app_id, active_app_user_id) WHERE push_notification_token IS NOT NULL;
