package postgres

import (
	"errors"
	"fmt"

	"github.com/identities-go/identities/store"
)

// ErrCrossTenant reports a dataset record that refers to another company's.
var ErrCrossTenant = errors.New("postgres: record refers to another company's")

// refs remembers, across the parts of a load, the company of each user and
// connection and what identities copy from them.
type refs struct {
	userCompany map[int64]int64
	userName    map[int64]string
	connCompany map[int64]int64
	conns       map[int64]*store.Connection
}

func newRefs() *refs {
	return &refs{userCompany: map[int64]int64{}, userName: map[int64]string{}, connCompany: map[int64]int64{}, conns: map[int64]*store.Connection{}}
}

// add records d's users and connections and verifies that every reference
// in d stays inside one company.
func (r *refs) add(d *store.Dataset) error {
	for _, u := range d.Users {
		r.userCompany[u.ID] = u.CompanyID
		r.userName[u.ID] = u.FirstName + " " + u.LastName
	}
	for i, c := range d.Connections {
		r.connCompany[c.ID] = c.CompanyID
		r.conns[c.ID] = &d.Connections[i]
	}
	for _, c := range d.Connections {
		if c.OwnerUserID != nil && r.userCompany[*c.OwnerUserID] != c.CompanyID {
			return fmt.Errorf("%w user: connection %d, owner %d", ErrCrossTenant, c.ID, *c.OwnerUserID)
		}
	}
	for _, u := range d.Users {
		for _, p := range u.Identities {
			if p.Connection != nil && r.connCompany[p.Connection.ID] != u.CompanyID {
				return fmt.Errorf("%w connection: person identity %d, connection %d", ErrCrossTenant, p.ID, p.Connection.ID)
			}
		}
	}
	for _, it := range d.Identities {
		if r.connCompany[it.ConnectionID] != it.CompanyID {
			return fmt.Errorf("%w connection: identity %d, connection %d", ErrCrossTenant, it.ID, it.ConnectionID)
		}
		for _, u := range []*int64{it.UserID, it.DesignatorID} {
			if u != nil && r.userCompany[*u] != it.CompanyID {
				return fmt.Errorf("%w user: identity %d, user %d", ErrCrossTenant, it.ID, *u)
			}
		}
	}
	return nil
}
