package clienttest

import "github.com/identities-go/identities/internal/testserver"

// WithStore starts the server on a store of kind, so that this package's
// tests run on every store. Users' tests always get SQLite.
func WithStore(kind testserver.StoreKind) Option { return func(o *options) { o.store = kind } }
