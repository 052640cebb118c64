-- The email channel (src/channels/email/). One thread per conversation: the subject its emails
-- keep, and the Message-ID the sending service answered for its first email, which later ones
-- answer (In-Reply-To, References) so that mail clients thread them. Gone with the user.
CREATE TABLE email_threads (
  app_user_id TEXT PRIMARY KEY REFERENCES app_users(id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  root_message_id TEXT NOT NULL,
  last_message_id TEXT NOT NULL
);

-- Each appUser message emailed, recorded before its queue job is acknowledged: a job delivered
-- again finds it and sends nothing.
CREATE TABLE email_sent (
  message_id TEXT PRIMARY KEY,
  app_user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  email_message_id TEXT NOT NULL,
  sent_at INTEGER NOT NULL
);
CREATE INDEX email_sent_by_user ON email_sent(app_user_id);

-- Each reply taken, by the Message-ID its sender gave it: the same reply delivered twice is
-- stored once.
CREATE TABLE email_received (
  app_user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  email_message_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (app_user_id, email_message_id)
);

-- Emails that needed retries or never went out, with the last reason (the dead letter's record).
CREATE TABLE email_failures (
  message_id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  app_user_id TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('retrying', 'failed')),
  updated_at INTEGER NOT NULL
);
