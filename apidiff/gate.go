package apidiff

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
)

// Verdict is the gate's decision on a report.
type Verdict struct {
	// Pass is false when the revision breaks clients of the base without
	// raising the major version of info.version.
	Pass bool `json:"pass"`
	// Breaking counts the findings at or above the gate's level.
	Breaking int `json:"breaking"`
	// Reason says why, on one line.
	Reason string `json:"reason"`
}

// Gate decides whether the revision may be released after the base: it
// passes when no finding is at failOn or above, or when the revision's
// info.version has a greater major version than the base's (a breaking
// change needs a new major). Versions are semantic versions, with or without
// a leading "v".
func (r *Report) Gate(failOn Level) Verdict {
	n := r.Count(failOn)
	from, to := r.Base.Version, r.Revision.Version
	if n == 0 {
		return Verdict{Pass: true, Reason: fmt.Sprintf("no change at %s or above from %s to %s", failOn, from, to)}
	}
	changes := plural(n, "change")
	base, err := Major(from)
	if err != nil {
		return Verdict{Breaking: n, Reason: fmt.Sprintf("%s at %s or above, and the base's info.version: %v", changes, failOn, err)}
	}
	rev, err := Major(to)
	if err != nil {
		return Verdict{Breaking: n, Reason: fmt.Sprintf("%s at %s or above, and the revision's info.version: %v", changes, failOn, err)}
	}
	if rev > base {
		return Verdict{Pass: true, Breaking: n, Reason: fmt.Sprintf("%s at %s or above, allowed: info.version's major goes from %d (%s) to %d (%s)", changes, failOn, base, from, rev, to)}
	}
	return Verdict{Breaking: n, Reason: fmt.Sprintf("%s at %s or above from %s, and info.version %s keeps major %d: undo them, or raise info.version to %d.0.0", changes, failOn, from, to, rev, base+1)}
}

// Major is the major number of a semantic version such as "1.2.3" or "v2.0.0".
func Major(version string) (int, error) {
	v := "v" + strings.TrimPrefix(version, "v")
	if !semver.IsValid(v) {
		return 0, fmt.Errorf("%q is not a semantic version (MAJOR.MINOR.PATCH)", version)
	}
	m, err := strconv.Atoi(strings.TrimPrefix(semver.Major(v), "v"))
	if err != nil {
		return 0, fmt.Errorf("%q: major version: %w", version, err)
	}
	return m, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
