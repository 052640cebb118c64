-- The app /demo answers as (src/demo/): the one the demo made, marked here, never found by its
-- name (any operator may call an app "Demo"). One row at most.
CREATE TABLE demo_app (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  app_id TEXT NOT NULL
);
