package store

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"slices"
)

// Code is how a store keeps f in a small integer column: 1 infrastructure,
// 2 version control, 0 for none.
func (f Family) Code() int64 {
	switch f {
	case Infrastructure:
		return 1
	case VersionControl:
		return 2
	}
	return 0
}

// FamilyOf is the family a stored code stands for (see Family.Code).
func FamilyOf(code int64) Family {
	if code == 1 {
		return Infrastructure
	}
	return VersionControl
}

// MigrationsDigest identifies the migrations that match pattern in fsys
// (their names and text): it changes with every one. Caches of prepared
// databases key on it.
func MigrationsDigest(fsys fs.FS, pattern string) string {
	h := sha256.New()
	names, _ := fs.Glob(fsys, pattern)
	slices.Sort(names)
	for _, name := range names {
		body, _ := fs.ReadFile(fsys, name)
		h.Write([]byte(name))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
