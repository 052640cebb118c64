-- The key of X-Parley-Signature, apart from the secret every delivery sends as X-API-Key (issue 11).
-- Existing webhooks get a random one here; their owners learn it by rotating it
-- (POST /v1/webhooks/{id}/signingSecret), since it is shown only when created or rotated.
ALTER TABLE webhooks ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';

UPDATE webhooks SET signing_secret = lower(hex(randomblob(32))) WHERE signing_secret = '';
