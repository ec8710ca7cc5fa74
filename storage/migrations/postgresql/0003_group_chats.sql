-- R-LONG: the group chat of a long-running case. A row is written before Graph is asked to
-- create the chat and the chat id as soon as Graph returns it, so a retry after a crash finds
-- the chat instead of creating a second one. The other dialect's 0003 is the same schema.

CREATE TABLE group_chats (
    case_number text PRIMARY KEY,
    topic       text NOT NULL,
    members     text NOT NULL,
    chat_id     text UNIQUE,
    state       text NOT NULL,
    last_error  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
