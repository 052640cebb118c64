-- Deletion and retention (src/lifecycle/).

-- Set when the app's deletion began: its credentials stop at once, and its users are erased in
-- the background (an AppEraser object's alarm) before the row itself goes.
ALTER TABLE apps ADD COLUMN deleted_at INTEGER;
CREATE INDEX apps_being_deleted ON apps(deleted_at) WHERE deleted_at IS NOT NULL;

-- Messages erased recently: the webhook consumer drops queued deliveries about them. Kept for a
-- day, far longer than a delivery stays in the queue.
CREATE TABLE erased_messages (
  message_id TEXT PRIMARY KEY,
  erased_at INTEGER NOT NULL
);
CREATE INDEX erased_messages_by_age ON erased_messages(erased_at);

-- A user's erasure walks the rows merged into it.
CREATE INDEX app_users_by_merge ON app_users(merged_into) WHERE merged_into IS NOT NULL;
-- An app's erasure walks its users in batches.
CREATE INDEX app_users_by_app ON app_users(app_id);
