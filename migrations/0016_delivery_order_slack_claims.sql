-- Lanes that keep their order across retries (src/delivery/lane-order.ts): while a job of an
-- ordered channel's lane (a conversation's Slack posts, its emails) waits for a retry, it and every
-- later job of that lane that came meanwhile have a row here, in lane order (`position`); only the
-- first row's job may be sent, and each row goes when its job is delivered, dropped or
-- dead-lettered. A lane whose jobs all succeed at their first attempt never has a row.
CREATE TABLE delivery_lane_holds (
  channel TEXT NOT NULL,
  lane TEXT NOT NULL,
  message_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  -- When the job is expected back on its queue (its retry's or its wait's end), in ms.
  due_at INTEGER NOT NULL,
  PRIMARY KEY (channel, lane, message_id)
);
CREATE INDEX delivery_lane_holds_in_order ON delivery_lane_holds(channel, lane, position);

-- A Slack thread being opened (src/channels/slack/outbound.ts): a job claims the conversation's
-- row before it posts the parent, with `thread_ts` a placeholder naming its claim
-- ('opening:<uuid>', unique like any ts) and `claimed_at` set; the parent's ts replaces both
-- (claimed_at NULL: the thread is open). A claim older than 30 s is taken for a dead worker's.
ALTER TABLE slack_threads ADD COLUMN claimed_at INTEGER;
