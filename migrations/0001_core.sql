-- Apps, their keys, app users, devices and whispers. Messages live in the Conversation Durable Objects.

CREATE TABLE apps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  app_token TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);

CREATE TABLE app_keys (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX app_keys_by_app ON app_keys(app_id, created_at);

CREATE TABLE app_users (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  user_id TEXT,
  conversation_id TEXT NOT NULL,
  given_name TEXT,
  surname TEXT,
  email TEXT,
  signed_up_at TEXT NOT NULL,
  properties TEXT NOT NULL DEFAULT '{}',
  conversation_started INTEGER NOT NULL DEFAULT 0,
  credential_required INTEGER NOT NULL DEFAULT 0,
  -- Set when this anonymous user was merged into another; its _id then resolves to that one.
  merged_into TEXT,
  created_at INTEGER NOT NULL
);
-- One app user per userId: concurrent inits race on this index, not on application code.
CREATE UNIQUE INDEX app_users_by_user_id ON app_users(app_id, user_id) WHERE user_id IS NOT NULL;

CREATE TABLE devices (
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  platform TEXT NOT NULL,
  app_version TEXT,
  push_notification_token TEXT,
  info TEXT NOT NULL DEFAULT '{}',
  -- The one user who receives this device's pushes: the last to call init on it.
  active_app_user_id TEXT,
  -- The device's anonymous user, claimed once so that concurrent inits share it.
  anonymous_app_user_id TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (app_id, id)
);

CREATE TABLE device_users (
  app_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  app_user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  PRIMARY KEY (app_id, device_id, app_user_id),
  FOREIGN KEY (app_id, device_id) REFERENCES devices(app_id, id) ON DELETE CASCADE
);
CREATE INDEX device_users_by_user ON device_users(app_user_id);

CREATE TABLE whispers (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  text TEXT NOT NULL,
  name TEXT,
  avatar_url TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX whispers_by_event ON whispers(app_id, event);
