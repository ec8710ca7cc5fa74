-- R-ESC: escalations waiting for a Team Leader's decision, and where each approval card was
-- sent so every lead's copy is updated in place. The other dialect's 0005 is the same.

CREATE TABLE escalations (
    id          text PRIMARY KEY,
    case_number text NOT NULL,
    state       text NOT NULL,
    version     integer NOT NULL,
    doc         text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE escalation_cards (
    escalation_id   text NOT NULL REFERENCES escalations (id),
    conversation_id text NOT NULL,
    activity_id     text NOT NULL,
    PRIMARY KEY (escalation_id, conversation_id)
);
