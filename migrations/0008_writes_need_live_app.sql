-- App users and devices are written only while their app is live (not being deleted). The check
-- is part of the write itself: an init needs no read of the app ahead of its one batch, and an
-- isolate still trusting a cached credential cannot add a row to an app being erased.
CREATE TRIGGER app_users_need_live_app BEFORE INSERT ON app_users
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id AND deleted_at IS NULL)
BEGIN
  SELECT RAISE(ABORT, 'app not live');
END;

-- Upserts too: SQLite runs BEFORE INSERT triggers before it finds the conflicting row.
CREATE TRIGGER devices_need_live_app BEFORE INSERT ON devices
WHEN NOT EXISTS (SELECT 1 FROM apps WHERE id = NEW.app_id AND deleted_at IS NULL)
BEGIN
  SELECT RAISE(ABORT, 'app not live');
END;
