package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestCopiesFollowTheirSources: the values the sorts and the counts read
// from copies follow every change of what they copy, whether the API makes
// it (a link) or an operator does (a rename of a user or a connection, a
// moved or deleted identity).
func TestCopiesFollowTheirSources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t))
	require.NoError(t, err)
	defer s.Close()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 20, Seed: 5})
	require.NoError(t, err)
	require.NoError(t, s.Load(ctx, store.Whole(d)))
	it := d.Identities[0]
	user := d.Users[1]

	// first returns the id listed first by sort, and the total, for q.
	first := func(sort store.Sort, q store.ListQuery) (int64, int64) {
		t.Helper()
		q.CompanyID, q.Family, q.Page, q.Limit, q.Sort = it.CompanyID, it.Family, 1, 1, sort
		p, err := s.ListIdentities(ctx, q)
		require.NoError(t, err)
		if len(p.Items) == 0 {
			return 0, p.Total
		}
		return p.Items[0].ID, p.Total
	}
	exec := func(query string, args ...any) {
		t.Helper()
		_, err := s.pool.Exec(ctx, query, args...)
		require.NoError(t, err)
	}
	// keys returns the copies of identity id.
	keys := func(id int64) (user, clientID, alias *string, state string) {
		t.Helper()
		require.NoError(t, s.pool.QueryRow(ctx, "SELECT user_name_key, client_id_key, client_alias_key, state_key FROM identities WHERE id = $1", id).
			Scan(&user, &clientID, &alias, &state))
		return
	}

	// A link through the API copies the user's name, folded.
	_, err = s.UpdateIdentity(ctx, it.CompanyID, it.Family, it.ID, store.Link{UserID: &user.ID}, time.Now())
	require.NoError(t, err)
	name, _, _, _ := keys(it.ID)
	require.NotNil(t, name)
	require.Equal(t, asciiLower(user.FirstName+" "+user.LastName), *name)

	// A rename of the user, by an operator.
	exec("UPDATE users SET first_name = 'AAAA', last_name = 'Ärger' WHERE id = $1", user.ID)
	name, _, _, _ = keys(it.ID)
	require.Equal(t, "aaaa Ärger", *name)
	got, _ := first(store.SortUser, store.ListQuery{})
	if got != it.ID {
		// Unlinked identities (null) come first: look among the linked.
		p, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: it.CompanyID, Family: it.Family, Page: 1, Limit: 50, Sort: store.SortUser})
		require.NoError(t, err)
		for _, v := range p.Items {
			if v.UserID != nil {
				require.Equal(t, it.ID, v.ID, "the renamed user's identity is not the first linked one")
				break
			}
		}
	}

	// A rename of the connection.
	exec("UPDATE connections SET client_id = 'AAA-first', client_alias = NULL, state = 'Zz' WHERE id = $1", it.ConnectionID)
	_, clientID, alias, state := keys(it.ID)
	require.Equal(t, "aaa-first", *clientID)
	require.Nil(t, alias)
	require.Equal(t, "zz", state)

	// A move to another connection updates the copies and the counts.
	var other *store.Connection
	for i, c := range d.Connections {
		if c.CompanyID == it.CompanyID && c.ID != it.ConnectionID {
			other = &d.Connections[i]
		}
	}
	require.NotNil(t, other)
	_, before := first(store.SortIdentityID, store.ListQuery{ConnectionID: other.ID})
	exec("UPDATE identities SET connection_id = $1 WHERE id = $2", other.ID, it.ID)
	_, clientID, _, state = keys(it.ID)
	require.Equal(t, asciiLowerPtr(other.ClientID), clientID)
	require.Equal(t, asciiLower(other.State), state)
	_, after := first(store.SortIdentityID, store.ListQuery{ConnectionID: other.ID})
	require.Equal(t, before+1, after)

	// A deleted identity leaves the counts.
	_, all := first(store.SortIdentityID, store.ListQuery{})
	exec("DELETE FROM identities WHERE id = $1", it.ID)
	_, allAfter := first(store.SortIdentityID, store.ListQuery{})
	require.Equal(t, all-1, allAfter)
	_, after = first(store.SortIdentityID, store.ListQuery{ConnectionID: other.ID})
	require.Equal(t, before, after)
}

// TestLoadWritesTheTriggersCopies: the copies a bulk load writes are those
// the triggers would have written, for names and values beyond ASCII too.
func TestLoadWritesTheTriggersCopies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, pgtest.NewDatabase(t))
	require.NoError(t, err)
	defer s.Close()
	d, err := seed.Generate(seed.Options{Companies: 2, Identities: 20, Seed: 7})
	require.NoError(t, err)
	d.Users[0].FirstName, d.Users[0].LastName = "Øyvind", "ÆRØ"
	d.Users[1].FirstName, d.Users[1].LastName = "ADA", "Lovelace"
	d.Connections[0].ClientAlias, d.Connections[0].ClientID, d.Connections[0].State = new("Élan"), nil, "Active"
	require.NoError(t, s.Load(ctx, store.Whole(d)))
	var wrong, linked int
	require.NoError(t, s.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE i.user_name_key IS DISTINCT FROM lower((u.first_name || ' ' || u.last_name) COLLATE "C")
			OR i.client_id_key IS DISTINCT FROM lower(c.client_id COLLATE "C")
			OR i.client_alias_key IS DISTINCT FROM lower(c.client_alias COLLATE "C")
			OR i.state_key IS DISTINCT FROM lower(c.state COLLATE "C")),
		count(*) FILTER (WHERE i.user_id IN ($1, $2))
		FROM identities i LEFT JOIN users u ON u.id = i.user_id JOIN connections c ON c.id = i.connection_id`,
		d.Users[0].ID, d.Users[1].ID).Scan(&wrong, &linked))
	require.Zero(t, wrong, "identities whose copies differ from the triggers'")
	require.Positive(t, linked, "no identity is linked to the users beyond ASCII")
	var counted, rows int64
	require.NoError(t, s.pool.QueryRow(ctx, "SELECT (SELECT sum(n) FROM identity_counts), (SELECT count(*) FROM identities)").Scan(&counted, &rows))
	require.Equal(t, rows, counted)
}
