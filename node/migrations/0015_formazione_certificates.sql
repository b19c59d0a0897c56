-- Formazione, part 2: certificates of attendance and the import of Moodle's course completion
-- report.
--
-- A certificate is issued once per completed enrolment. `payload` holds the exact canonical
-- JSON bytes the node signed (code, person, course, sector, dates, hours, competences,
-- Province, issue date) and `signature` the Ed25519 signature over them (base64url); the key
-- that signed is kept by id and value, so a certificate stays verifiable after a rotation.
-- The verification code is public and unguessable (80 random bits, base32, grouped).
CREATE TABLE formazione_certificates (
    id INTEGER PRIMARY KEY,
    enrolment_id INTEGER NOT NULL UNIQUE REFERENCES formazione_enrolments(id),
    code TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    issued_by INTEGER NOT NULL REFERENCES users(id),
    revoked_at INTEGER,
    revoked_reason TEXT NOT NULL DEFAULT ''
);

-- The course's short name in the Province's Moodle: the completion report names courses by it.
ALTER TABLE formazione_courses ADD COLUMN moodle_shortname TEXT;
CREATE UNIQUE INDEX formazione_courses_moodle ON formazione_courses (moodle_shortname)
    WHERE moodle_shortname IS NOT NULL;
