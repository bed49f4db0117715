-- The identities store on PostgreSQL. Times are timestamptz (microseconds);
-- family is 1 (infrastructure) or 2 (version control).
--
-- Every list page is an index walk or a read of its matches only:
--   * identities keeps a sort key for every sort, each in an index
--     (company_id, family, key, id) in the sort's order, nulls first, so that
--     a descending list is the same index walked backwards. Text keys are
--     folded as SQLite's NOCASE folds them (ASCII letters only: lower() under
--     COLLATE "C") and compare bytewise (COLLATE "C"). The keys of the
--     identity's own text are generated columns; those of the linked user's
--     name and of the connection's values are copies kept by the triggers
--     below, in the same transactions that change what they copy.
--   * identity_counts keeps how many identities each company, family and
--     connection has, by triggers, so that a total needs no count of rows.
--   * q looks in identity_id_fold, username_fold and email_fold: each field
--     lower-cased as Go's strings.ToLower does it, which PostgreSQL's lower()
--     does not reproduce, so the store writes them. A GIN trigram index per
--     family over the three joined by newlines finds the candidates of a
--     LIKE '%term%'; PostgreSQL checks the term itself on each of them.
--     A term of one or two characters has no trigram: its matches are
--     counted by reading the folded fields of every identity of the company
--     and family from identities_folds.
--
-- Composite foreign keys keep an identity's connection, user and designator
-- inside its company, so lists need no join to stay inside it.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE companies (
    id                bigint      PRIMARY KEY,
    name              text        NOT NULL,
    plan_includes_api boolean     NOT NULL,
    created_at        timestamptz NOT NULL
);

CREATE TABLE users (
    id              bigint      PRIMARY KEY,
    company_id      bigint      NOT NULL REFERENCES companies (id),
    entry_id        text        NOT NULL,
    email           text        NOT NULL,
    first_name      text        NOT NULL,
    last_name       text        NOT NULL,
    job_title       text,
    terms_agreed_at timestamptz,
    roles           text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (id, company_id)
);
CREATE INDEX users_company ON users (company_id, id);

CREATE TABLE background_checks (
    id                  bigint      PRIMARY KEY,
    user_id             bigint      NOT NULL REFERENCES users (id),
    status              text        NOT NULL,
    case_id             text,
    case_invitation_id  text,
    manual_check_date   timestamptz,
    manually_check_url  text,
    type                text        NOT NULL,
    source              text        NOT NULL,
    report_data         text,
    out_of_scope_reason text,
    out_of_scope_at     timestamptz,
    invitation_email    text,
    linked_at           timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX background_checks_user ON background_checks (user_id, id);

CREATE TABLE connections (
    id                   bigint      PRIMARY KEY,
    company_id           bigint      NOT NULL REFERENCES companies (id),
    client_type          text        NOT NULL,
    state                text        NOT NULL,
    connected            boolean     NOT NULL,
    connected_at         timestamptz,
    failed_at            timestamptz,
    assignment_id        text,
    owner_user_id        bigint,
    account_id           text,
    client_id            text,
    client_alias         text,
    manually_updated_at  timestamptz,
    alias_updated_at     timestamptz,
    deleted_at           timestamptz,
    requestor_id         text,
    product              jsonb,
    write_access_enabled boolean     NOT NULL,
    source_preference    text,
    security_label       text,
    jql_query            text,
    authorized           boolean     NOT NULL,
    provider_types       bigint[]    NOT NULL DEFAULT '{}',
    code                 bigint,
    group_label          text,
    UNIQUE (id, company_id),
    FOREIGN KEY (owner_user_id, company_id) REFERENCES users (id, company_id)
);
CREATE INDEX connections_company ON connections (company_id, client_type);

CREATE TABLE person_identities (
    id              bigint      PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id),
    connection_id   bigint      REFERENCES connections (id),
    identity_id     text        NOT NULL,
    username        text        NOT NULL,
    connected_at    timestamptz,
    disconnected_at timestamptz,
    has_mfa         boolean     NOT NULL,
    has_idp         boolean     NOT NULL,
    secondary_email text,
    first_name      text,
    last_name       text,
    started_at      timestamptz,
    separated_at    timestamptz,
    is_contractor   boolean     NOT NULL,
    job_title       text,
    manager_id      text,
    manager_name    text
);
CREATE INDEX person_identities_user ON person_identities (user_id, id);

CREATE TABLE documents (
    id           bigint      PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    name         text        NOT NULL,
    type         text        NOT NULL,
    file_url     text,
    renewal_date timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX documents_user ON documents (user_id, id);

CREATE TABLE identities (
    id                     bigint      PRIMARY KEY,
    company_id             bigint      NOT NULL REFERENCES companies (id),
    family                 smallint    NOT NULL CHECK (family IN (1, 2)),
    connection_id          bigint      NOT NULL,
    identity_id            text        NOT NULL,
    username               text        NOT NULL,
    email                  text,
    connected_at           timestamptz,
    disconnected_at        timestamptz,
    service_account_at     timestamptz,
    service_account_reason text,
    user_id                bigint,
    designator_id          bigint,
    has_mfa                boolean     NOT NULL,
    last_checked_at        timestamptz,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    access_a_at            timestamptz, -- admin access / write access
    access_b_at            timestamptz, -- database access / push to production
    -- The sort keys of the identity's own text.
    identity_id_key  text COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(identity_id COLLATE "C")) STORED,
    username_key     text COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(username COLLATE "C")) STORED,
    email_key        text COLLATE "C" GENERATED ALWAYS AS (lower(email COLLATE "C")) STORED,
    -- Copies, folded: the linked user's "first last" (NULL when unlinked)
    -- and the connection's client_id, client_alias and state.
    user_name_key    text COLLATE "C",
    client_id_key    text COLLATE "C",
    client_alias_key text COLLATE "C",
    state_key        text COLLATE "C" NOT NULL,
    -- What q looks in, written by the store: strings.ToLower of each field.
    identity_id_fold text NOT NULL,
    username_fold    text NOT NULL,
    email_fold       text NOT NULL, -- '' when email is NULL
    FOREIGN KEY (connection_id, company_id) REFERENCES connections (id, company_id),
    FOREIGN KEY (user_id, company_id) REFERENCES users (id, company_id),
    FOREIGN KEY (designator_id, company_id) REFERENCES users (id, company_id)
);

-- One index per sort, in its order: nulls first (and so last when walked
-- backwards, for a descending list), ties by id. NULLS FIRST even on columns
-- that hold no null: the planner matches an ORDER BY to an index by its
-- words, not by what the column may hold.
CREATE INDEX identities_by_identity_id ON identities (company_id, family, identity_id_key NULLS FIRST, id);
CREATE INDEX identities_by_username ON identities (company_id, family, username_key NULLS FIRST, id);
CREATE INDEX identities_by_email ON identities (company_id, family, email_key NULLS FIRST, id);
CREATE INDEX identities_by_connected_at ON identities (company_id, family, connected_at NULLS FIRST, id);
CREATE INDEX identities_by_disconnected_at ON identities (company_id, family, disconnected_at NULLS FIRST, id);
CREATE INDEX identities_by_service_account_at ON identities (company_id, family, service_account_at NULLS FIRST, id);
CREATE INDEX identities_by_has_mfa ON identities (company_id, family, has_mfa NULLS FIRST, id);
CREATE INDEX identities_by_access_a_at ON identities (company_id, family, access_a_at NULLS FIRST, id);
CREATE INDEX identities_by_access_b_at ON identities (company_id, family, access_b_at NULLS FIRST, id);
CREATE INDEX identities_by_user_name ON identities (company_id, family, user_name_key NULLS FIRST, id);
CREATE INDEX identities_by_client_id ON identities (company_id, family, client_id_key NULLS FIRST, id);
CREATE INDEX identities_by_client_alias ON identities (company_id, family, client_alias_key NULLS FIRST, id);
CREATE INDEX identities_by_state ON identities (company_id, family, state_key NULLS FIRST, id);
-- The connection filters and the copies' upkeep.
CREATE INDEX identities_by_connection ON identities (company_id, family, connection_id, id);
CREATE INDEX identities_by_user ON identities (user_id) WHERE user_id IS NOT NULL;
-- The rows q checks one by one, for a term too short for a trigram (or
-- holding a newline): an index-only scan of the company's and family's
-- folded fields, rather than of their rows.
CREATE INDEX identities_folds ON identities (company_id, family) INCLUDE (identity_id_fold, username_fold, email_fold);
-- The search, one per family: a list always names its family.
CREATE INDEX identities_search_1 ON identities
    USING gin ((identity_id_fold || E'\n' || username_fold || E'\n' || email_fold) gin_trgm_ops) WHERE family = 1;
CREATE INDEX identities_search_2 ON identities
    USING gin ((identity_id_fold || E'\n' || username_fold || E'\n' || email_fold) gin_trgm_ops) WHERE family = 2;

CREATE TABLE identity_counts (
    company_id    bigint   NOT NULL,
    family        smallint NOT NULL,
    connection_id bigint   NOT NULL,
    n             bigint   NOT NULL,
    PRIMARY KEY (company_id, family, connection_id)
);

-- +goose StatementBegin
CREATE FUNCTION identities_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE identity_counts SET n = n - 1
        WHERE company_id = OLD.company_id AND family = OLD.family AND connection_id = OLD.connection_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO identity_counts AS k (company_id, family, connection_id, n)
        VALUES (NEW.company_id, NEW.family, NEW.connection_id, 1)
        ON CONFLICT (company_id, family, connection_id) DO UPDATE SET n = k.n + 1;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER identities_count_insert_delete AFTER INSERT OR DELETE ON identities
    FOR EACH ROW EXECUTE FUNCTION identities_count();
CREATE TRIGGER identities_count_move AFTER UPDATE OF company_id, family, connection_id ON identities
    FOR EACH ROW WHEN ((OLD.company_id, OLD.family, OLD.connection_id) IS DISTINCT FROM (NEW.company_id, NEW.family, NEW.connection_id))
    EXECUTE FUNCTION identities_count();

-- The copies follow links and connection moves. FOR SHARE waits for a
-- rename of the user or connection in progress and reads its result, so
-- that the rename's own trigger (below) and this one cannot both miss.
-- +goose StatementBegin
CREATE FUNCTION identities_copies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        IF NEW.user_id IS NULL THEN
            NEW.user_name_key := NULL;
        ELSE
            SELECT lower((u.first_name || ' ' || u.last_name) COLLATE "C") INTO NEW.user_name_key
            FROM users u WHERE u.id = NEW.user_id FOR SHARE;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.connection_id IS DISTINCT FROM OLD.connection_id THEN
        SELECT lower(c.client_id COLLATE "C"), lower(c.client_alias COLLATE "C"), lower(c.state COLLATE "C")
        INTO NEW.client_id_key, NEW.client_alias_key, NEW.state_key
        FROM connections c WHERE c.id = NEW.connection_id FOR SHARE;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER identities_copies BEFORE INSERT OR UPDATE OF user_id, connection_id ON identities
    FOR EACH ROW EXECUTE FUNCTION identities_copies();

-- +goose StatementBegin
CREATE FUNCTION users_name_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE identities SET user_name_key = lower((NEW.first_name || ' ' || NEW.last_name) COLLATE "C")
    WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER users_name_copy AFTER UPDATE OF first_name, last_name ON users
    FOR EACH ROW WHEN ((OLD.first_name, OLD.last_name) IS DISTINCT FROM (NEW.first_name, NEW.last_name))
    EXECUTE FUNCTION users_name_copy();

-- +goose StatementBegin
CREATE FUNCTION connections_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE identities SET client_id_key = lower(NEW.client_id COLLATE "C"),
        client_alias_key = lower(NEW.client_alias COLLATE "C"), state_key = lower(NEW.state COLLATE "C")
    WHERE company_id = NEW.company_id AND family IN (1, 2) AND connection_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER connections_copy AFTER UPDATE OF client_id, client_alias, state ON connections
    FOR EACH ROW WHEN ((OLD.client_id, OLD.client_alias, OLD.state) IS DISTINCT FROM (NEW.client_id, NEW.client_alias, NEW.state))
    EXECUTE FUNCTION connections_copy();

CREATE TABLE api_keys (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id   bigint      NOT NULL REFERENCES companies (id),
    user_id      bigint      NOT NULL,
    prefix       text        NOT NULL,
    hash         bytea       NOT NULL UNIQUE,
    scopes       text[]      NOT NULL,
    allowed_nets text[]      NOT NULL DEFAULT '{}',
    expires_at   timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL,
    FOREIGN KEY (user_id, company_id) REFERENCES users (id, company_id)
);
CREATE INDEX api_keys_company ON api_keys (company_id, id);

-- +goose Down
DROP TABLE api_keys, identity_counts, identities, documents, person_identities, connections, background_checks, users, companies;
DROP FUNCTION identities_count, identities_copies, users_name_copy, connections_copy;
