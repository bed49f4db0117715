-- +goose Up
-- +goose StatementBegin
-- Schema version 2: lists whose pages cost the same at any size.
--
-- identities is rebuilt with
--   * family as a small integer (1 infrastructure, 2 version control), which
--     keeps every index entry short;
--   * composite foreign keys, so that an identity can only point at its own
--     company's connection, user and designator: lists need no join to stay
--     inside the company;
--   * copies of what the sorts need from the linked user and the connection,
--     kept by the triggers below, so that every sort has an index in its order;
--   * search: the folded text q looks in (fold(identity_id), fold(username)
--     and fold(email), newline-separated), written by the store, and a trigram
--     index over it.
-- identity_counts keeps, per company, family and connection, how many
-- identities there are, in the same transactions that change them, so that a
-- list's total needs no count over its rows.

CREATE UNIQUE INDEX users_tenant ON users (id, company_id);
CREATE UNIQUE INDEX connections_tenant ON connections (id, company_id);

CREATE TABLE identities_v2 (
    id                     INTEGER PRIMARY KEY,
    company_id             INTEGER NOT NULL REFERENCES companies (id),
    family                 INTEGER NOT NULL CHECK (family IN (1, 2)),
    connection_id          INTEGER NOT NULL,
    identity_id            TEXT    NOT NULL,
    username               TEXT    NOT NULL,
    email                  TEXT,
    connected_at           INTEGER,
    disconnected_at        INTEGER,
    service_account_at     INTEGER,
    service_account_reason TEXT,
    user_id                INTEGER,
    designator_id          INTEGER,
    has_mfa                INTEGER NOT NULL,
    last_checked_at        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    access_a_at            INTEGER, -- admin access / write access
    access_b_at            INTEGER, -- database access / push to production
    user_name              TEXT,    -- the linked user's first and last name; NULL when unlinked
    client_id              TEXT,    -- the connection's client_id
    client_alias           TEXT,    -- the connection's client_alias
    connection_state       TEXT    NOT NULL, -- the connection's state
    search                 TEXT    NOT NULL,
    FOREIGN KEY (connection_id, company_id) REFERENCES connections (id, company_id),
    FOREIGN KEY (user_id, company_id) REFERENCES users (id, company_id),
    FOREIGN KEY (designator_id, company_id) REFERENCES users (id, company_id)
) STRICT;

INSERT INTO identities_v2 (id, company_id, family, connection_id, identity_id, username, email, connected_at, disconnected_at,
    service_account_at, service_account_reason, user_id, designator_id, has_mfa, last_checked_at, created_at, updated_at,
    access_a_at, access_b_at, user_name, client_id, client_alias, connection_state, search)
SELECT i.id, i.company_id, CASE i.family WHEN 'infrastructure' THEN 1 ELSE 2 END, i.connection_id, i.identity_id, i.username, i.email,
    i.connected_at, i.disconnected_at, i.service_account_at, i.service_account_reason, i.user_id, i.designator_id, i.has_mfa,
    i.last_checked_at, i.created_at, i.updated_at, i.access_a_at, i.access_b_at,
    (SELECT u.first_name || ' ' || u.last_name FROM users u WHERE u.id = i.user_id),
    c.client_id, c.client_alias, c.state,
    fold(i.identity_id) || char(10) || fold(i.username) || char(10) || fold(coalesce(i.email, ''))
FROM identities i JOIN connections c ON c.id = i.connection_id
ORDER BY i.id;

DROP TABLE identities;
ALTER TABLE identities_v2 RENAME TO identities;

-- One index per sort, in its order; SQLite appends the rowid (id) to every
-- index entry, which breaks ties by id in the same direction.
CREATE INDEX identities_by_identity_id ON identities (company_id, family, identity_id COLLATE NOCASE);
CREATE INDEX identities_by_username ON identities (company_id, family, username COLLATE NOCASE);
CREATE INDEX identities_by_email ON identities (company_id, family, email COLLATE NOCASE);
CREATE INDEX identities_by_connected_at ON identities (company_id, family, connected_at);
CREATE INDEX identities_by_disconnected_at ON identities (company_id, family, disconnected_at);
CREATE INDEX identities_by_service_account_at ON identities (company_id, family, service_account_at);
CREATE INDEX identities_by_has_mfa ON identities (company_id, family, has_mfa);
CREATE INDEX identities_by_access_a_at ON identities (company_id, family, access_a_at);
CREATE INDEX identities_by_access_b_at ON identities (company_id, family, access_b_at);
CREATE INDEX identities_by_user_name ON identities (company_id, family, user_name COLLATE NOCASE);
CREATE INDEX identities_by_client_id ON identities (company_id, family, client_id COLLATE NOCASE);
CREATE INDEX identities_by_client_alias ON identities (company_id, family, client_alias COLLATE NOCASE);
CREATE INDEX identities_by_connection_state ON identities (company_id, family, connection_state COLLATE NOCASE);
-- The connection filters, the copies' upkeep and the foreign keys' checks.
CREATE INDEX identities_by_connection ON identities (company_id, family, connection_id);

CREATE TABLE identity_counts (
    company_id    INTEGER NOT NULL,
    family        INTEGER NOT NULL,
    connection_id INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (company_id, family, connection_id)
) WITHOUT ROWID, STRICT;

INSERT INTO identity_counts (company_id, family, connection_id, n)
SELECT company_id, family, connection_id, count(*) FROM identities GROUP BY company_id, family, connection_id;

CREATE TRIGGER identities_count_insert AFTER INSERT ON identities BEGIN
    INSERT INTO identity_counts (company_id, family, connection_id, n) VALUES (new.company_id, new.family, new.connection_id, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER identities_count_delete AFTER DELETE ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
    WHERE company_id = old.company_id AND family = old.family AND connection_id = old.connection_id;
END;

CREATE TRIGGER identities_count_move AFTER UPDATE OF company_id, family, connection_id ON identities BEGIN
    UPDATE identity_counts SET n = n - 1
    WHERE company_id = old.company_id AND family = old.family AND connection_id = old.connection_id;
    INSERT INTO identity_counts (company_id, family, connection_id, n) VALUES (new.company_id, new.family, new.connection_id, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- The copies follow links, renames and connection changes.
CREATE TRIGGER identities_user_copy AFTER UPDATE OF user_id ON identities BEGIN
    UPDATE identities SET user_name = (SELECT first_name || ' ' || last_name FROM users WHERE id = new.user_id)
    WHERE id = new.id;
END;

CREATE TRIGGER users_name_copy AFTER UPDATE OF first_name, last_name ON users BEGIN
    UPDATE identities SET user_name = new.first_name || ' ' || new.last_name
    WHERE company_id = new.company_id AND family IN (1, 2) AND user_name = old.first_name || ' ' || old.last_name COLLATE NOCASE
      AND user_id = new.id;
END;

CREATE TRIGGER identities_connection_copy AFTER UPDATE OF connection_id ON identities BEGIN
    UPDATE identities SET (client_id, client_alias, connection_state) =
        (SELECT client_id, client_alias, state FROM connections WHERE id = new.connection_id)
    WHERE id = new.id;
END;

CREATE TRIGGER connections_copy AFTER UPDATE OF client_id, client_alias, state ON connections BEGIN
    UPDATE identities SET client_id = new.client_id, client_alias = new.client_alias, connection_state = new.state
    WHERE company_id = new.company_id AND family IN (1, 2) AND connection_id = new.id;
END;

CREATE TRIGGER identities_search_copy AFTER UPDATE OF identity_id, username, email ON identities BEGIN
    UPDATE identities SET search = fold(new.identity_id) || char(10) || fold(new.username) || char(10) || fold(coalesce(new.email, ''))
    WHERE id = new.id;
END;

-- The search index behind q: for each row, one token per trigram of search
-- followed by two newlines, in order, naming the row's company and family
-- (search_tokens, a function the store registers; writes to these columns
-- need it). A phrase of a term's tokens, or for a term of one or two
-- characters the tokens that begin with it, matches exactly the company's
-- rows of the family whose search holds the term: a search reads no other
-- company's entries and counts its matches without reading rows.
CREATE VIRTUAL TABLE identities_search USING fts5 (
    tokens, content = '', contentless_delete = 1, tokenize = 'ascii', detail = 'full'
);
INSERT INTO identities_search (rowid, tokens)
SELECT id, search_tokens(company_id, family, search) FROM identities;

CREATE TRIGGER identities_search_insert AFTER INSERT ON identities BEGIN
    INSERT INTO identities_search (rowid, tokens) VALUES (new.id, search_tokens(new.company_id, new.family, new.search));
END;

CREATE TRIGGER identities_search_delete AFTER DELETE ON identities BEGIN
    DELETE FROM identities_search WHERE rowid = old.id;
END;

CREATE TRIGGER identities_search_update AFTER UPDATE OF company_id, family, search ON identities BEGIN
    DELETE FROM identities_search WHERE rowid = old.id;
    INSERT INTO identities_search (rowid, tokens) VALUES (new.id, search_tokens(new.company_id, new.family, new.search));
END;
-- +goose StatementEnd
