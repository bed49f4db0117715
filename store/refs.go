package store

import (
	"errors"
	"fmt"
)

// ErrCrossTenant reports a dataset record that refers to another company's
// user or connection, or to one not loaded yet.
var ErrCrossTenant = errors.New("store: record refers to another company's")

// Refs remembers, across the parts of a load, the company of each user and
// connection, and what identities copy from them. A Loader checks each part
// with Add before it writes it.
type Refs struct {
	userCompany map[int64]int64
	userName    map[int64]string
	connCompany map[int64]int64
	conns       map[int64]*Connection
}

// NewRefs returns Refs that know no record yet.
func NewRefs() *Refs {
	return &Refs{userCompany: map[int64]int64{}, userName: map[int64]string{}, connCompany: map[int64]int64{}, conns: map[int64]*Connection{}}
}

// Add records d's users and connections and verifies that every reference
// in d stays inside one company; it wraps ErrCrossTenant when one does not.
func (r *Refs) Add(d *Dataset) error {
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

// UserName is the name an identity linked to user id copies ("First Last").
func (r *Refs) UserName(id int64) string { return r.userName[id] }

// Connection is the loaded connection id, or nil.
func (r *Refs) Connection(id int64) *Connection { return r.conns[id] }
