-- Parley Desk (issue 26): the people who answer an app's users, and the conversation index
-- (src/conversations-index/) that the conversation list and message search read.

-- An app's agents. `email` is stored lower-cased: one agent per address and app, whatever its case.
CREATE TABLE agents (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (app_id, email)
);
-- The Desk finds the apps a signed-in address answers for.
CREATE INDEX agents_by_email ON agents(email);

-- One row per app user whose conversation holds an indexed message, written by the index channel's
-- jobs (batched by the queue consumer), never on a post's response path. It goes with its user.
CREATE TABLE conversation_index (
  -- An explicit rowid: the user filter's full-text table points at it, and VACUUM keeps it.
  seq INTEGER PRIMARY KEY,
  app_user_id TEXT NOT NULL UNIQUE REFERENCES app_users(id) ON DELETE CASCADE,
  app_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  assignee TEXT,
  -- The newest indexed message's received (unix seconds); NULL until one is indexed.
  last_activity REAL,
  -- When the business last marked the conversation read: appUser messages after it are unread.
  business_read_at REAL NOT NULL DEFAULT 0,
  -- The user's userId, names and email, lower-cased, for the user filter (q): kept by the triggers below.
  user_text TEXT NOT NULL DEFAULT ''
);
-- The list: an app's conversations of a status, newest activity first; and by assignee. (`all`
-- reads each status and merges: an index on activity alone would cost every message a row more.)
CREATE INDEX conversation_index_by_status ON conversation_index(app_id, status, last_activity);
CREATE INDEX conversation_index_by_assignee ON conversation_index(app_id, assignee, status, last_activity);

-- Every indexed message, as the contract shows it (`message`, JSON), with its text for search.
CREATE TABLE conversation_messages (
  seq INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  app_user_id TEXT NOT NULL REFERENCES conversation_index(app_user_id) ON DELETE CASCADE,
  app_id TEXT NOT NULL,
  role TEXT NOT NULL,
  received REAL NOT NULL,
  message TEXT NOT NULL
);
-- A conversation's newest message, and its messages since the business's read (the unread count).
CREATE INDEX conversation_messages_by_user ON conversation_messages(app_user_id, received);

-- Search: the words of each message's text, tokenised case-insensitively (unicode61), and the app
-- as a one-token column, so that a query intersects the app's posting list with the words'.
CREATE VIRTUAL TABLE conversation_search USING fts5(app_id, body, content='', contentless_delete=1);

CREATE TRIGGER conversation_messages_searchable AFTER INSERT ON conversation_messages BEGIN
  INSERT INTO conversation_search (rowid, app_id, body) VALUES (NEW.seq, NEW.app_id, json_extract(NEW.message, '$.text'));
END;
CREATE TRIGGER conversation_messages_unsearchable AFTER DELETE ON conversation_messages BEGIN
  DELETE FROM conversation_search WHERE rowid = OLD.seq;
END;

-- The user filter: trigrams of each conversation's user_text (case-insensitive substrings).
CREATE VIRTUAL TABLE conversation_users USING fts5(user_text, content='conversation_index', content_rowid='seq', tokenize='trigram');
CREATE TRIGGER conversation_index_users_in AFTER INSERT ON conversation_index BEGIN
  INSERT INTO conversation_users (rowid, user_text) VALUES (NEW.seq, NEW.user_text);
END;
CREATE TRIGGER conversation_index_users_out AFTER DELETE ON conversation_index BEGIN
  INSERT INTO conversation_users (conversation_users, rowid, user_text) VALUES ('delete', OLD.seq, OLD.user_text);
END;
CREATE TRIGGER conversation_index_users_changed AFTER UPDATE OF user_text ON conversation_index BEGIN
  INSERT INTO conversation_users (conversation_users, rowid, user_text) VALUES ('delete', OLD.seq, OLD.user_text);
  INSERT INTO conversation_users (rowid, user_text) VALUES (NEW.seq, NEW.user_text);
END;
-- A profile change reaches the filter at once (no row when the user has no indexed conversation).
CREATE TRIGGER app_users_desk_text AFTER UPDATE OF user_id, given_name, surname, email ON app_users BEGIN
  UPDATE conversation_index
  SET user_text = lower(concat_ws(' ', NEW.user_id, NEW.given_name, NEW.surname, NEW.email))
  WHERE app_user_id = NEW.id;
END;

-- An erased message leaves the index with its tombstone (src/lifecycle/ writes one for each);
-- a conversation left without messages leaves the list.
CREATE TRIGGER erased_messages_unindexed AFTER INSERT ON erased_messages BEGIN
  DELETE FROM conversation_messages WHERE message_id = NEW.message_id;
END;
CREATE TRIGGER conversation_messages_last_activity AFTER DELETE ON conversation_messages BEGIN
  UPDATE conversation_index
  SET last_activity = (SELECT MAX(received) FROM conversation_messages WHERE app_user_id = OLD.app_user_id)
  WHERE app_user_id = OLD.app_user_id;
END;
