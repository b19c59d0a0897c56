-- Formazione: a course the Province opens to the staff of other Provinces. Its editions are
-- then listed in the national catalogue of courses (the derived `formazione_corsi` dataset,
-- protocol/datasets/formazione_corsi.md) when the Province federates it.
ALTER TABLE formazione_courses ADD COLUMN open_to_provinces INTEGER NOT NULL DEFAULT 0
    CHECK (open_to_provinces IN (0, 1));
