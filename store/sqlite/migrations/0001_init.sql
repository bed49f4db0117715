-- +goose Up
-- +goose StatementBegin
-- Schema version 1 of the identities store. Times are Unix milliseconds (UTC).
CREATE TABLE companies (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    plan_includes_api INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    entry_id        TEXT    NOT NULL,
    email           TEXT    NOT NULL,
    first_name      TEXT    NOT NULL,
    last_name       TEXT    NOT NULL,
    job_title       TEXT,
    terms_agreed_at INTEGER,
    roles           TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX users_company ON users (company_id, id);

CREATE TABLE background_checks (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES users (id),
    status              TEXT    NOT NULL,
    case_id             TEXT,
    case_invitation_id  TEXT,
    manual_check_date   INTEGER,
    manually_check_url  TEXT,
    type                TEXT    NOT NULL,
    source              TEXT    NOT NULL,
    report_data         TEXT,
    out_of_scope_reason TEXT,
    out_of_scope_at     INTEGER,
    invitation_email    TEXT,
    linked_at           INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX background_checks_user ON background_checks (user_id);

CREATE TABLE connections (
    id                   INTEGER PRIMARY KEY,
    company_id           INTEGER NOT NULL REFERENCES companies (id),
    client_type          TEXT    NOT NULL,
    state                TEXT    NOT NULL,
    connected            INTEGER NOT NULL,
    connected_at         INTEGER,
    failed_at            INTEGER,
    assignment_id        TEXT,
    owner_user_id        INTEGER REFERENCES users (id),
    account_id           TEXT,
    client_id            TEXT,
    client_alias         TEXT,
    manually_updated_at  INTEGER,
    alias_updated_at     INTEGER,
    deleted_at           INTEGER,
    requestor_id         TEXT,
    product              TEXT, -- JSON object or NULL
    write_access_enabled INTEGER NOT NULL,
    source_preference    TEXT,
    security_label       TEXT,
    jql_query            TEXT,
    authorized           INTEGER NOT NULL,
    provider_types       TEXT    NOT NULL DEFAULT '[]', -- JSON array of integers
    code                 INTEGER,
    group_label          TEXT
) STRICT;
CREATE INDEX connections_company ON connections (company_id, client_type);

CREATE TABLE person_identities (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    connection_id   INTEGER REFERENCES connections (id),
    identity_id     TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    connected_at    INTEGER,
    disconnected_at INTEGER,
    has_mfa         INTEGER NOT NULL,
    has_idp         INTEGER NOT NULL,
    secondary_email TEXT,
    first_name      TEXT,
    last_name       TEXT,
    started_at      INTEGER,
    separated_at    INTEGER,
    is_contractor   INTEGER NOT NULL,
    job_title       TEXT,
    manager_id      TEXT,
    manager_name    TEXT
) STRICT;
CREATE INDEX person_identities_user ON person_identities (user_id);

CREATE TABLE documents (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    file_url     TEXT,
    renewal_date INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX documents_user ON documents (user_id);

CREATE TABLE identities (
    id                     INTEGER PRIMARY KEY,
    company_id             INTEGER NOT NULL REFERENCES companies (id),
    family                 TEXT    NOT NULL CHECK (family IN ('infrastructure', 'version-control')),
    connection_id          INTEGER NOT NULL REFERENCES connections (id),
    identity_id            TEXT    NOT NULL,
    username               TEXT    NOT NULL,
    email                  TEXT,
    connected_at           INTEGER,
    disconnected_at        INTEGER,
    service_account_at     INTEGER,
    service_account_reason TEXT,
    user_id                INTEGER REFERENCES users (id),
    designator_id          INTEGER REFERENCES users (id),
    has_mfa                INTEGER NOT NULL,
    last_checked_at        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    access_a_at            INTEGER, -- admin access / write access
    access_b_at            INTEGER  -- database access / push to production
) STRICT;
CREATE INDEX identities_company_family ON identities (company_id, family, id);
CREATE INDEX identities_username ON identities (company_id, family, username COLLATE NOCASE, id);
CREATE INDEX identities_connection ON identities (connection_id);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    company_id   INTEGER NOT NULL REFERENCES companies (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    prefix       TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL, -- JSON array of strings
    allowed_nets TEXT    NOT NULL DEFAULT '[]', -- JSON array of CIDRs
    expires_at   INTEGER,
    revoked_at   INTEGER,
    created_at   INTEGER NOT NULL
) STRICT;
-- +goose StatementEnd
