-- R-LONG: the group chat of a long-running case. A row is written before Graph is asked to
-- create the chat and the chat id as soon as Graph returns it, so a retry after a crash finds
-- the chat instead of creating a second one. The other dialect's 0003 is the same schema.

CREATE TABLE group_chats (
    case_number TEXT PRIMARY KEY,
    topic       TEXT NOT NULL,
    members     TEXT NOT NULL,
    chat_id     TEXT UNIQUE,
    state       TEXT NOT NULL,
    last_error  TEXT,
    created_at  TIMESTAMP_TEXT NOT NULL,
    updated_at  TIMESTAMP_TEXT NOT NULL
);
