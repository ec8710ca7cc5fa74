-- R-ESC: escalations waiting for a Team Leader's decision, and where each approval card was
-- sent so every lead's copy is updated in place. The other dialect's 0005 is the same.

CREATE TABLE escalations (
    id          TEXT PRIMARY KEY,
    case_number TEXT NOT NULL,
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    created_at  TIMESTAMP_TEXT NOT NULL,
    updated_at  TIMESTAMP_TEXT NOT NULL
);

CREATE TABLE escalation_cards (
    escalation_id   TEXT NOT NULL REFERENCES escalations (id),
    conversation_id TEXT NOT NULL,
    activity_id     TEXT NOT NULL,
    PRIMARY KEY (escalation_id, conversation_id)
);
