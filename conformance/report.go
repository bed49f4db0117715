package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is the outcome of a run: one Result per check, in a fixed order.
type Report struct {
	BaseURL string `json:"baseUrl"`
	// Document is the title and version of the document checked against;
	// Spec says where it came from ("embedded" or the file given).
	Document string    `json:"document"`
	Spec     string    `json:"spec"`
	Mode     string    `json:"mode"` // "read-only" or "write"
	Seed     uint64    `json:"seed"`
	Budget   int       `json:"budget"`
	Started  time.Time `json:"started"`
	// Duration is the run's wall time; Requests counts what was sent.
	Duration time.Duration `json:"-"`
	Requests int           `json:"requests"`
	Checks   []*Result     `json:"checks"`
	// Notes say what the run could not do, such as a family the key may
	// not list.
	Notes []string `json:"notes,omitempty"`
}

// Result is what one check found.
type Result struct {
	// Name is stable ("paging.limit"); Rule is the documented rule it
	// enforces.
	Name string `json:"name"`
	Rule string `json:"rule"`
	// Passed, Failed and Skipped count the cases the check tried.
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"`
	Skipped  int       `json:"skipped"`
	Findings []Finding `json:"findings,omitempty"`
	Skips    []Skip    `json:"skips,omitempty"`
	// Notes are facts worth knowing that are no failure, such as the
	// timestamps a write check could not restore.
	Notes []string `json:"notes,omitempty"`
}

// Finding is one way the server broke a check's rule.
type Finding struct {
	// Subject is what was tried ("listInfrastructureIdentities sort=EMAIL
	// sortDir=DESC"); Message what was wrong.
	Subject   string `json:"subject"`
	Message   string `json:"message"`
	Operation string `json:"operation,omitempty"`
	Status    int    `json:"status,omitempty"`
	// Request is the method and URL; Curl a command that reproduces the
	// finding, the smallest request found that still shows it, with keys
	// named by environment variables, never by their values.
	Request string `json:"request,omitempty"`
	Curl    string `json:"curl,omitempty"`
	// Count is how many times the same finding was seen.
	Count int `json:"count"`
	key   string
}

// Skip is a case a check could not try, and why.
type Skip struct {
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

// Outcome is "fail" when a case failed, "pass" when one passed, else "skip".
func (r *Result) Outcome() string {
	switch {
	case r.Failed > 0:
		return "fail"
	case r.Passed > 0:
		return "pass"
	}
	return "skip"
}

// Passed reports whether no check failed.
func (r *Report) Passed() bool { return r.Problems() == 0 }

// Problems counts the failed cases of every check.
func (r *Report) Problems() int {
	n := 0
	for _, c := range r.Checks {
		n += c.Failed
	}
	return n
}

// Check returns the result of the named check, or nil.
func (r *Report) Check(name string) *Result {
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// textFindings bounds the findings the text report shows per check.
const textFindings = 5

// WriteText writes the report for people: each check with its counts,
// its rule when it did not pass, and its findings with curl lines.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "identities check of %s\n", r.BaseURL)
	fmt.Fprintf(&b, "  document: %s (%s)\n", r.Document, r.Spec)
	fmt.Fprintf(&b, "  %s, seed %d, budget %d: %d requests in %s\n", r.Mode, r.Seed, r.Budget, r.Requests, r.Duration.Round(time.Millisecond))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	b.WriteString("\n")
	failed := 0
	for _, c := range r.Checks {
		var counts []string
		for _, kv := range []struct {
			n    int
			what string
		}{{c.Failed, "failed"}, {c.Passed, "passed"}, {c.Skipped, "skipped"}} {
			if kv.n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", kv.n, kv.what))
			}
		}
		outcome := strings.ToUpper(c.Outcome())
		if outcome == "FAIL" {
			failed++
		}
		fmt.Fprintf(&b, "%-5s %-26s %s\n", outcome, c.Name, strings.Join(counts, ", "))
		if c.Outcome() != "pass" {
			fmt.Fprintf(&b, "      rule: %s\n", c.Rule)
		}
		for i, f := range c.Findings {
			if i == textFindings {
				fmt.Fprintf(&b, "      … %d more (--format json lists every one)\n", len(c.Findings)-i)
				break
			}
			seen := ""
			if f.Count > 1 {
				seen = fmt.Sprintf(" (seen %d times)", f.Count)
			}
			fmt.Fprintf(&b, "      ✗ %s: %s%s\n", f.Subject, f.Message, seen)
			if f.Curl != "" {
				fmt.Fprintf(&b, "        %s\n", f.Curl)
			}
		}
		for i, s := range c.Skips {
			if i == textFindings {
				fmt.Fprintf(&b, "      … %d more skipped\n", len(c.Skips)-i)
				break
			}
			fmt.Fprintf(&b, "      skipped %s: %s\n", s.Subject, s.Reason)
		}
		for _, n := range c.Notes {
			fmt.Fprintf(&b, "      note: %s\n", n)
		}
	}
	if failed > 0 {
		fmt.Fprintf(&b, "\nFAIL: %d of %d checks failed (%d problems)\n", failed, len(r.Checks), r.Problems())
	} else {
		b.WriteString("\nPASS: no check failed\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		*Report
		Passed     bool  `json:"passed"`
		Problems   int   `json:"problems"`
		DurationMS int64 `json:"durationMs"`
	}{r, r.Passed(), r.Problems(), r.Duration.Milliseconds()})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML: a suite per check, a failed
// case per finding, a skipped case per skip, and one case for the passes.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "identities check " + r.BaseURL, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
	for _, c := range r.Checks {
		s := junitSuite{Name: c.Name}
		if c.Passed > 0 {
			s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("%d cases passed", c.Passed), Classname: c.Name})
		}
		for _, f := range c.Findings {
			text := fmt.Sprintf("rule: %s\n%s\n", c.Rule, f.Message)
			if f.Request != "" {
				text += fmt.Sprintf("%s -> %d\n", f.Request, f.Status)
			}
			if f.Curl != "" {
				text += f.Curl + "\n"
			}
			s.Cases = append(s.Cases, junitCase{Name: f.Subject, Classname: c.Name, Failure: &junitFailure{Message: f.Message, Text: text}})
			s.Failures++
		}
		for _, sk := range c.Skips {
			s.Cases = append(s.Cases, junitCase{Name: sk.Subject, Classname: c.Name, Skipped: &junitSkipped{Message: sk.Reason}})
			s.Skipped++
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Skipped += s.Skipped
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
