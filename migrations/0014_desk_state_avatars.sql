-- Parley Desk, continued (issue 26): the conversation's state is recorded by its Conversation object,
-- which numbers each change; the index keeps the number of the state it shows, so that a change
-- reaching it late (the response path's write, or the index job) never undoes a newer one. And
-- the avatar the list shows for each conversation's user.

-- The number of the state (status, assignee) the row shows; 0 for a state no object has numbered.
ALTER TABLE conversation_index ADD COLUMN state_seq INTEGER NOT NULL DEFAULT 0;
-- The avatarUrl of the user's newest indexed message, shown as the user's in the list.
ALTER TABLE conversation_index ADD COLUMN avatar_url TEXT;
