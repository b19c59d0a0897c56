
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    comune_code TEXT REFERENCES comuni(code),
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0
        CHECK (must_change_password = 0 OR must_change_password = 1)
);
INSERT INTO users_new (id, username, display_name, password_hash, comune_code, disabled,
        created_at, must_change_password)
    SELECT id, username, display_name, password_hash, comune_code, disabled, created_at,
        must_change_password
    FROM users;

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role = 'admin' OR role = 'operator'),
    module TEXT NOT NULL DEFAULT '',
    CHECK ((role = 'operator') = (module <> '')),
    PRIMARY KEY (user_id, role, module)
) WITHOUT ROWID;
INSERT INTO user_roles (user_id, role, module)
    SELECT id, role, coalesce(module, '') FROM users WHERE role = 'admin' OR role = 'operator';

DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

CREATE TRIGGER user_roles_not_for_comuni BEFORE INSERT ON user_roles
WHEN (SELECT comune_code FROM users WHERE id = NEW.user_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a Comune user holds no Province role'); END;

CREATE TRIGGER users_comune_not_province BEFORE UPDATE OF comune_code ON users
WHEN NEW.comune_code IS NOT NULL AND EXISTS (SELECT 1 FROM user_roles WHERE user_id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'a Comune user holds no Province role'); END;

CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action, id);
