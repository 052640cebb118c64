-- The Slack channel (src/channels/slack/).

-- Whether an integration works: 'error' with the reason once its service refused the integration's
-- credentials or destination for good (Slack's invalid_auth, channel_not_found, not_in_channel).
ALTER TABLE integrations ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'error'));
ALTER TABLE integrations ADD COLUMN status_reason TEXT;

-- The Slack thread of each conversation, per integration: a new integration opens new threads.
-- Goes with the integration, and with the app user (erasure).
CREATE TABLE slack_threads (
  integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  conversation_id TEXT NOT NULL,
  app_user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  thread_ts TEXT NOT NULL,
  PRIMARY KEY (integration_id, conversation_id)
);
CREATE UNIQUE INDEX slack_threads_by_ts ON slack_threads(integration_id, thread_ts);
CREATE INDEX slack_threads_by_user ON slack_threads(app_user_id);

-- The Slack message each Parley message became, written as soon as Slack answered: a retried job
-- finds it and posts nothing again. Goes with the thread.
CREATE TABLE slack_posts (
  integration_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  ts TEXT NOT NULL,
  PRIMARY KEY (integration_id, message_id),
  FOREIGN KEY (integration_id, conversation_id) REFERENCES slack_threads(integration_id, conversation_id) ON DELETE CASCADE
);

-- Events API deliveries already taken (Slack retries with the same event_id), pruned after a day.
CREATE TABLE slack_events (
  integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (integration_id, event_id)
);
CREATE INDEX slack_events_by_age ON slack_events(created_at);

-- Slack posts that will never go out: refused (the reason Slack gave) or out of retries.
CREATE TABLE slack_failures (
  integration_id TEXT NOT NULL REFERENCES integrations(id) ON DELETE CASCADE,
  message_id TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (integration_id, message_id)
);
