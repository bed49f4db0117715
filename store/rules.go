package store

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadChange reports a Change that names no known flag or kind.
var ErrBadChange = errors.New("store: bad change")

// A Change is one of the API's writes to an identity: Link, SetAccess or
// MarkServiceAccount. Apply holds the rules every store shares; a store only
// reads the row, calls Apply and writes back what it changed.
type Change interface {
	apply(it *Identity, now time.Time) (bool, error)
}

// Link links the identity to a user of its company, or unlinks it when
// UserID is nil. Linking sets connectedAt and clears disconnectedAt;
// unlinking keeps connectedAt and sets disconnectedAt.
type Link struct {
	UserID *int64
}

// SetAccess sets (On) or clears one access flag. A flag that is already set
// keeps its original time.
type SetAccess struct {
	Access Access
	On     bool
}

// MarkServiceAccount marks (Mark true) or unmarks an identity as a service
// account. Marking keeps the time of the first mark and records the reason
// and the acting user as designator; unmarking clears all three.
type MarkServiceAccount struct {
	Mark   bool
	Reason string
	// ActorID is the acting user, recorded as the designator.
	ActorID int64
}

// LinkedUser returns the user a change links, which the store must find in
// the identity's company before it applies the change, or nil.
func LinkedUser(c Change) *int64 {
	if l, ok := c.(Link); ok {
		return l.UserID
	}
	return nil
}

// Apply applies c to it as of now and reports whether anything changed. A
// change that changes nothing leaves every field as it was, updatedAt
// included. A change that does records the later of now and the identity's
// updatedAt, so that updatedAt never goes backwards even when a request that
// read the clock earlier commits later.
func Apply(c Change, it *Identity, now time.Time) (bool, error) {
	if c == nil {
		return false, fmt.Errorf("%w: nil", ErrBadChange)
	}
	if now.Before(it.UpdatedAt) {
		now = it.UpdatedAt
	}
	changed, err := c.apply(it, now)
	if changed && err == nil {
		it.UpdatedAt = now
	}
	return changed && err == nil, err
}

func (l Link) apply(it *Identity, now time.Time) (bool, error) {
	switch {
	case l.UserID == nil && it.UserID == nil:
		return false, nil
	case l.UserID == nil:
		it.UserID, it.DisconnectedAt = nil, &now
	case it.UserID != nil && *it.UserID == *l.UserID:
		return false, nil
	default:
		id := *l.UserID
		it.UserID, it.ConnectedAt, it.DisconnectedAt = &id, &now, nil
	}
	return true, nil
}

func (a SetAccess) apply(it *Identity, now time.Time) (bool, error) {
	var flag **time.Time
	switch a.Access {
	case AccessA:
		flag = &it.AccessA
	case AccessB:
		flag = &it.AccessB
	default:
		return false, fmt.Errorf("%w: access flag %d", ErrBadChange, a.Access)
	}
	if (*flag != nil) == a.On {
		return false, nil
	}
	if a.On {
		*flag = &now
	} else {
		*flag = nil
	}
	return true, nil
}

func (m MarkServiceAccount) apply(it *Identity, now time.Time) (bool, error) {
	if !m.Mark {
		if it.ServiceAccountAt == nil && it.ServiceAccountReason == nil && it.DesignatorID == nil {
			return false, nil
		}
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = nil, nil, nil
		return true, nil
	}
	if it.ServiceAccountAt != nil && it.ServiceAccountReason != nil && *it.ServiceAccountReason == m.Reason &&
		it.DesignatorID != nil && *it.DesignatorID == m.ActorID {
		return false, nil
	}
	if it.ServiceAccountAt == nil {
		it.ServiceAccountAt = &now
	}
	reason, actor := m.Reason, m.ActorID
	it.ServiceAccountReason, it.DesignatorID = &reason, &actor
	return true, nil
}
