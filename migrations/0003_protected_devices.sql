-- A device on which a credentialRequired user has signed in is protected from then on: an app
-- token can no longer change it, link users to it or make a user of its active (issue 11).
ALTER TABLE devices ADD COLUMN protected_at INTEGER;

UPDATE devices SET protected_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE EXISTS (
  SELECT 1 FROM device_users l JOIN app_users u ON u.id = l.app_user_id
  WHERE l.app_id = devices.app_id AND l.device_id = devices.id AND u.credential_required = 1
);
