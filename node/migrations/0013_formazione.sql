-- Formazione: the training the Province offers its own staff and the Comuni's. Courses with
-- their sector, competence (a Syllabus area and level for digital skills, free tags
-- otherwise), audience and completion rule; editions with sessions, seats and an enrolment
-- window; the people who train (staff of the Province or of one Comune: name, office, work
-- e-mail, nothing more); enrolments with their audited lifecycle (approval, waiting list,
-- withdrawal); attendance per session in minutes, from the register or a videoconference
-- report. Dates are `YYYY-MM-DD` text, instants Unix seconds, durations minutes.

CREATE TABLE formazione_courses (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    sector TEXT NOT NULL CHECK (sector = 'appalti' OR sector = 'europa' OR sector = 'innovazione'
        OR sector = 'personale' OR sector = 'altro'),
    description TEXT NOT NULL,
    objectives TEXT NOT NULL,
    hours INTEGER NOT NULL CHECK (hours BETWEEN 1 AND 1000),
    mode TEXT NOT NULL CHECK (mode = 'presence' OR mode = 'online' OR mode = 'elearning'),
    -- The Syllabus area and level of a digital-skills course, both or neither.
    syllabus_area TEXT,
    syllabus_level TEXT CHECK (syllabus_level IS NULL OR syllabus_level = 'base'
        OR syllabus_level = 'intermedio' OR syllabus_level = 'avanzato'),
    tags TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience = 'province' OR audience = 'comuni' OR audience = 'both'),
    needs_approval INTEGER NOT NULL CHECK (needs_approval IN (0, 1)),
    -- Completion: at least this share of the edition's hours, and this final-test score if set.
    min_attendance_percent INTEGER NOT NULL CHECK (min_attendance_percent BETWEEN 1 AND 100),
    min_score INTEGER CHECK (min_score IS NULL OR min_score BETWEEN 0 AND 100),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((syllabus_area IS NULL) = (syllabus_level IS NULL))
);
CREATE INDEX formazione_courses_sector ON formazione_courses (sector, id);

CREATE TABLE formazione_editions (
    id INTEGER PRIMARY KEY,
    course_id INTEGER NOT NULL REFERENCES formazione_courses(id) ON DELETE CASCADE,
    place TEXT NOT NULL,
    link TEXT NOT NULL,
    teacher TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats >= 1),
    enrol_opens TEXT NOT NULL,
    enrol_closes TEXT NOT NULL CHECK (enrol_closes >= enrol_opens),
    created_at INTEGER NOT NULL
);
CREATE INDEX formazione_editions_course ON formazione_editions (course_id, id);

CREATE TABLE formazione_sessions (
    id INTEGER PRIMARY KEY,
    edition_id INTEGER NOT NULL REFERENCES formazione_editions(id) ON DELETE CASCADE,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL CHECK (ends_at > starts_at)
);
CREATE INDEX formazione_sessions_edition ON formazione_sessions (edition_id, starts_at);

-- The people who train. No Comune: staff of the Province. The e-mail is kept lower-case and
-- is unique: attendance reports are matched on it.
CREATE TABLE formazione_staff (
    id INTEGER PRIMARY KEY,
    comune_code TEXT REFERENCES comuni(code),
    name TEXT NOT NULL,
    office TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX formazione_staff_comune ON formazione_staff (comune_code, name);

-- One enrolment per person and edition; its state moves through `crate::lifecycle`
-- (`formazione::ENROLMENTS`). The waiting list is first come first served: by id.
-- `attended_minutes` and `completed` are recomputed from the attendance and the course's
-- rule whenever either changes.
CREATE TABLE formazione_enrolments (
    id INTEGER PRIMARY KEY,
    edition_id INTEGER NOT NULL REFERENCES formazione_editions(id) ON DELETE CASCADE,
    staff_id INTEGER NOT NULL REFERENCES formazione_staff(id),
    state TEXT NOT NULL CHECK (state = 'pending' OR state = 'waiting' OR state = 'enrolled'
        OR state = 'rejected' OR state = 'withdrawn'),
    score INTEGER CHECK (score IS NULL OR score BETWEEN 0 AND 100),
    attended_minutes INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    enrolled_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (edition_id, staff_id)
);
CREATE INDEX formazione_enrolments_state ON formazione_enrolments (edition_id, state, id);
CREATE INDEX formazione_enrolments_staff ON formazione_enrolments (staff_id);

CREATE TABLE formazione_enrolment_transitions (
    id INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL REFERENCES formazione_enrolments(id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX formazione_enrolment_transitions_enrolment
    ON formazione_enrolment_transitions (enrolment_id, id);

-- Minutes each enrolled person attended of a session (within its start and end).
CREATE TABLE formazione_attendance (
    session_id INTEGER NOT NULL REFERENCES formazione_sessions(id) ON DELETE CASCADE,
    enrolment_id INTEGER NOT NULL REFERENCES formazione_enrolments(id) ON DELETE CASCADE,
    minutes INTEGER NOT NULL CHECK (minutes >= 0),
    source TEXT NOT NULL CHECK (source = 'register' OR source = 'import'),
    PRIMARY KEY (session_id, enrolment_id)
) WITHOUT ROWID;
CREATE INDEX formazione_attendance_enrolment ON formazione_attendance (enrolment_id);
