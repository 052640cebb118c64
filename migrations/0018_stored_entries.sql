-- Parley Desk, continued (issue 26): each conversation's list entry stored on its index row, so
-- that a page of the list reads its rows' text and nothing else (one row read per entry, rather
-- than the user's, the newest message's and the assignee's besides, and no JSON built per read),
-- and the search reads each hit's user the same way.

-- The user as the list and the search show it, and the whole list entry, both JSON.
ALTER TABLE conversation_index ADD COLUMN user_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE conversation_index ADD COLUMN entry TEXT NOT NULL DEFAULT '{}';

-- Every user's entry as it stands, the one definition of both shapes: the triggers below store it
-- on the row; src/db/conversation-index.ts reads it live for a user not indexed yet (as every
-- conversation starts: open, unassigned, no message). `json_patch` onto `{}` leaves out the user's
-- fields that are null, as the API's other user objects do; `properties` is set after it, whole.
-- The newest message is conversation_messages_by_user's last row; the assignee's name comes by the
-- agents' unique key (an assignee removed as an agent keeps the assignment, shown by address).
CREATE VIEW conversation_entries AS
SELECT app_user_id, app_id, merged_into, last_activity, user_json,
  json_object(
    'appUser', json(user_json),
    'lastMessage', json((SELECT m.message FROM conversation_messages m WHERE m.app_user_id = v.app_user_id ORDER BY m.received DESC LIMIT 1)),
    'lastActivity', last_activity,
    'businessUnreadCount', coalesce(business_unread, 0),
    'status', coalesce(status, 'open'),
    'assignee', json(CASE WHEN assignee IS NOT NULL THEN json_object('email', assignee,
      'name', coalesce((SELECT a.name FROM agents a WHERE a.app_id = v.app_id AND a.email = v.assignee), assignee)) END)
  ) AS entry
FROM (
  SELECT u.id AS app_user_id, u.app_id, u.merged_into, c.last_activity, c.business_unread, c.status, c.assignee,
    json_set(
      json_patch('{}', json_object('_id', u.id, 'userId', u.user_id, 'givenName', u.given_name, 'surname', u.surname, 'email', u.email, 'avatarUrl', c.avatar_url)),
      '$.properties', json(coalesce(nullif(u.properties, ''), '{}'))) AS user_json
  FROM app_users u LEFT JOIN conversation_index c ON c.app_user_id = u.id
) v;

UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = conversation_index.app_user_id);

-- What the entry shows changes with, each followed by the entry's rebuild: a message indexed or
-- gone (these triggers replace 0013's and 0017's, which kept the activity and the unread count:
-- one trigger runs its statements in order, so the rebuild reads both as they now are)...
DROP TRIGGER conversation_messages_last_activity;
DROP TRIGGER conversation_messages_unread;
DROP TRIGGER conversation_messages_unread_gone;
CREATE TRIGGER conversation_messages_indexed AFTER INSERT ON conversation_messages BEGIN
  UPDATE conversation_index SET business_unread = business_unread + 1
  WHERE app_user_id = NEW.app_user_id AND NEW.role = 'appUser' AND NEW.received > business_read_at;
  UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = NEW.app_user_id)
  WHERE app_user_id = NEW.app_user_id;
END;
-- (An erased unread message is no longer unread; a conversation left without messages leaves the
-- list. Only a message the entry showed, as its newest or among its unread, rebuilds it: erasing a
-- long conversation's history rebuilds its entry for those, not for every message.)
CREATE TRIGGER conversation_messages_gone AFTER DELETE ON conversation_messages BEGIN
  UPDATE conversation_index SET
    last_activity = (SELECT MAX(received) FROM conversation_messages WHERE app_user_id = OLD.app_user_id),
    business_unread = business_unread - (OLD.role = 'appUser' AND OLD.received > business_read_at)
  WHERE app_user_id = OLD.app_user_id;
  UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = OLD.app_user_id)
  WHERE app_user_id = OLD.app_user_id
    AND (OLD.received >= coalesce(last_activity, 0) OR (OLD.role = 'appUser' AND OLD.received > business_read_at));
END;
-- ... the row created, its state, its avatar, the business's read (the activity and the unread
-- count move with a message, above; the merge's fold and the profile's redaction, which rewrite
-- many messages at once, rebuild their conversations' entries once each: src/db/conversation-index.ts)...
CREATE TRIGGER conversation_index_entry_new AFTER INSERT ON conversation_index BEGIN
  UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = NEW.app_user_id)
  WHERE app_user_id = NEW.app_user_id;
END;
CREATE TRIGGER conversation_index_entry_changed AFTER UPDATE OF status, assignee, avatar_url, business_read_at ON conversation_index
WHEN OLD.status IS NOT NEW.status OR OLD.assignee IS NOT NEW.assignee OR OLD.avatar_url IS NOT NEW.avatar_url OR OLD.business_read_at IS NOT NEW.business_read_at
BEGIN
  UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = NEW.app_user_id)
  WHERE app_user_id = NEW.app_user_id;
END;
-- ... the user's profile...
CREATE TRIGGER app_users_entry AFTER UPDATE OF user_id, given_name, surname, email, properties ON app_users BEGIN
  UPDATE conversation_index SET (user_json, entry) = (SELECT user_json, entry FROM conversation_entries e WHERE e.app_user_id = NEW.id)
  WHERE app_user_id = NEW.id;
END;
-- ... and the assignee's name, as an agent of that address comes or goes.
CREATE TRIGGER agents_entry_in AFTER INSERT ON agents BEGIN
  UPDATE conversation_index SET entry = (SELECT entry FROM conversation_entries e WHERE e.app_user_id = conversation_index.app_user_id)
  WHERE app_id = NEW.app_id AND assignee = NEW.email;
END;
CREATE TRIGGER agents_entry_out AFTER DELETE ON agents BEGIN
  UPDATE conversation_index SET entry = (SELECT entry FROM conversation_entries e WHERE e.app_user_id = conversation_index.app_user_id)
  WHERE app_id = OLD.app_id AND assignee = OLD.email;
END;
