-- Parley Desk, continued (issue 26): each conversation's unread count kept on its index row, so
-- that the list reads it with the row instead of counting the messages since the business's read
-- (all of them, for a conversation the business never read).

-- The appUser messages indexed after business_read_at. The triggers below keep it exact whatever
-- order the index's jobs arrive in: a message is counted when its row is inserted (a replayed job
-- inserts nothing, so fires nothing), uncounted when its row goes; a read recounts
-- (src/db/conversation-index.ts), and so does a merge's fold, each over a range of one
-- conversation's messages by conversation_messages_by_user.
ALTER TABLE conversation_index ADD COLUMN business_unread INTEGER NOT NULL DEFAULT 0;

UPDATE conversation_index
SET business_unread = (
  SELECT COUNT(*) FROM conversation_messages m
  WHERE m.app_user_id = conversation_index.app_user_id AND m.role = 'appUser' AND m.received > conversation_index.business_read_at
);

CREATE TRIGGER conversation_messages_unread AFTER INSERT ON conversation_messages WHEN NEW.role = 'appUser' BEGIN
  UPDATE conversation_index SET business_unread = business_unread + 1
  WHERE app_user_id = NEW.app_user_id AND NEW.received > business_read_at;
END;
-- An erased (or otherwise removed) message that was unread is no longer.
CREATE TRIGGER conversation_messages_unread_gone AFTER DELETE ON conversation_messages WHEN OLD.role = 'appUser' BEGIN
  UPDATE conversation_index SET business_unread = business_unread - 1
  WHERE app_user_id = OLD.app_user_id AND OLD.received > business_read_at;
END;
