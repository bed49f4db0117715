package store

import "fmt"

// LinkViews fills in each view's connection, linked user, designator and
// connection owner. It asks connections for the views' connections, then
// users for every user they name, once each, so that a store loads a page's
// records in a fixed number of queries whatever its size.
func LinkViews(views []IdentityView,
	connections func(ids []int64) (map[int64]*Connection, error),
	users func(ids []int64) (map[int64]*User, error),
) error {
	if len(views) == 0 {
		return nil
	}
	connIDs := make([]int64, 0, len(views))
	for _, v := range views {
		connIDs = append(connIDs, v.ConnectionID)
	}
	conns, err := connections(connIDs)
	if err != nil {
		return err
	}
	var userIDs []int64
	for _, v := range views {
		c := conns[v.ConnectionID]
		if c == nil {
			return fmt.Errorf("store: identity %d: connection %d is missing", v.ID, v.ConnectionID)
		}
		for _, id := range []*int64{v.UserID, v.DesignatorID, c.OwnerUserID} {
			if id != nil {
				userIDs = append(userIDs, *id)
			}
		}
	}
	byID, err := users(userIDs)
	if err != nil {
		return err
	}
	lookup := func(id *int64) *User {
		if id == nil {
			return nil
		}
		return byID[*id]
	}
	for i := range views {
		v := &views[i]
		v.Connection = conns[v.ConnectionID]
		v.User = lookup(v.UserID)
		v.Designator = lookup(v.DesignatorID)
		v.ConnectionOwner = lookup(v.Connection.OwnerUserID)
	}
	return nil
}
