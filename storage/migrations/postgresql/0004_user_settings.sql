-- What each engineer told the bot about themselves with `settings`: their region, time zone
-- and working hours, and whether reminders are muted. The other dialect's 0004 is the same.

CREATE TABLE user_settings (
    user_id    text PRIMARY KEY,
    doc        text NOT NULL,
    muted      integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
