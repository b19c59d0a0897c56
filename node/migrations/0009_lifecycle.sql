-- The Help Desk's history of moves, kept like the SUA's (`sua_transitions`) so one audited
-- lifecycle (`node/src/lifecycle.rs`) writes both: one row per move with who, when, from, to
-- and why; the creation is the row without `from_state`. Until now a request's moves were
-- only in the audit log: they are copied from there, with the name people read for their
-- author, so existing requests keep their history.
CREATE TABLE helpdesk_transitions (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES helpdesk_requests(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX helpdesk_transitions_request ON helpdesk_transitions(request_id, id);
CREATE TRIGGER helpdesk_transitions_no_update BEFORE UPDATE ON helpdesk_transitions
BEGIN SELECT RAISE(ABORT, 'helpdesk_transitions is append-only'); END;
CREATE TRIGGER helpdesk_transitions_no_delete BEFORE DELETE ON helpdesk_transitions
BEGIN SELECT RAISE(ABORT, 'helpdesk_transitions is append-only'); END;

INSERT INTO helpdesk_transitions (request_id, from_state, to_state, reason, actor, at)
SELECT r.id, NULL, 'new', '', u.display_name, r.created_at
FROM helpdesk_requests r JOIN users u ON u.id = r.opened_by
ORDER BY r.id;

INSERT INTO helpdesk_transitions (request_id, from_state, to_state, reason, actor, at)
SELECT CAST(substr(a.resource, 18) AS INTEGER),
       json_extract(a.detail, '$.from'),
       json_extract(a.detail, '$.to'),
       CASE json_extract(a.detail, '$.reason') WHEN 'comune_reply' THEN 'Risposta del Comune' ELSE '' END,
       coalesce(u.display_name, a.actor),
       a.at
FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
WHERE a.action = 'helpdesk.transition' AND a.resource LIKE 'helpdesk_request:%'
  AND CAST(substr(a.resource, 18) AS INTEGER) IN (SELECT id FROM helpdesk_requests)
ORDER BY a.id;
