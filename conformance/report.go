package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Violation is one way a response broke the contract.
type Violation struct {
	// Path is a JSON pointer into the body, or "" for the status, the
	// headers or the body as a whole.
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Check is one request the checker made and what it found.
type Check struct {
	// Operation is the operationId the request targets.
	Operation string `json:"operation"`
	// Name says what was tried, e.g. "sort=EMAIL sortDir=DESC".
	Name string `json:"name"`
	// Request is the method and URL, never the token.
	Request string `json:"request"`
	// Status is the response's status, 0 when none came.
	Status     int         `json:"status"`
	Violations []Violation `json:"violations,omitempty"`
	// Error is set when the request could not be made at all.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// Passed reports whether the check found nothing wrong.
func (c Check) Passed() bool { return len(c.Violations) == 0 && c.Error == "" }

// Report is the outcome of a run.
type Report struct {
	BaseURL  string        `json:"baseUrl"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	Checks   []Check       `json:"checks"`
}

// Failed reports whether any check found a violation or failed to run.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if !c.Passed() {
			return true
		}
	}
	return false
}

// Violations counts the violations of all checks.
func (r *Report) Violations() int {
	n := 0
	for _, c := range r.Checks {
		n += len(c.Violations)
		if c.Error != "" {
			n++
		}
	}
	return n
}

// byOperation groups checks per operation, operations in name order.
func (r *Report) byOperation() ([]string, map[string][]Check) {
	groups := make(map[string][]Check)
	for _, c := range r.Checks {
		groups[c.Operation] = append(groups[c.Operation], c)
	}
	ops := make([]string, 0, len(groups))
	for op := range groups {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops, groups
}

// WriteText writes the report for people: per operation, what was tried,
// what passed, and each violation.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Conformance of %s (%d checks in %s)\n", r.BaseURL, len(r.Checks), r.Duration.Round(time.Millisecond))
	ops, groups := r.byOperation()
	for _, op := range ops {
		passed := 0
		for _, c := range groups[op] {
			if c.Passed() {
				passed++
			}
		}
		fmt.Fprintf(&b, "\n%s: %d/%d passed\n", op, passed, len(groups[op]))
		for _, c := range groups[op] {
			if c.Passed() {
				if c.Status == 0 { // a skip or a note: no request was sent
					fmt.Fprintf(&b, "  ok   %s\n", c.Name)
				} else {
					fmt.Fprintf(&b, "  ok   %s (%d)\n", c.Name, c.Status)
				}
				continue
			}
			fmt.Fprintf(&b, "  FAIL %s\n       %s -> %d\n", c.Name, c.Request, c.Status)
			if c.Error != "" {
				fmt.Fprintf(&b, "       error: %s\n", c.Error)
			}
			for _, v := range c.Violations {
				where := v.Path
				if where == "" {
					where = "(response)"
				}
				fmt.Fprintf(&b, "       %s: %s\n", where, v.Reason)
			}
		}
	}
	if r.Failed() {
		fmt.Fprintf(&b, "\nFAIL: %d violations\n", r.Violations())
	} else {
		b.WriteString("\nPASS: no violations\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Passed     bool `json:"passed"`
		Violations int  `json:"violationCount"`
	}{r, !r.Failed(), r.Violations()})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML, one suite per operation.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "conformance " + r.BaseURL}
	ops, groups := r.byOperation()
	for _, op := range ops {
		s := junitSuite{Name: op}
		for _, c := range groups[op] {
			jc := junitCase{Name: c.Name, Classname: op, Time: fmt.Sprintf("%.3f", c.Duration.Seconds())}
			if !c.Passed() {
				var text strings.Builder
				fmt.Fprintf(&text, "%s -> %d\n", c.Request, c.Status)
				if c.Error != "" {
					fmt.Fprintf(&text, "error: %s\n", c.Error)
				}
				for _, v := range c.Violations {
					fmt.Fprintf(&text, "%s: %s\n", v.Path, v.Reason)
				}
				msg := fmt.Sprintf("%d violations", len(c.Violations))
				if c.Error != "" {
					msg = "error: " + c.Error
				}
				jc.Failure = &junitFailure{Message: msg, Text: text.String()}
				s.Failures++
			}
			s.Cases = append(s.Cases, jc)
			s.Tests++
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
