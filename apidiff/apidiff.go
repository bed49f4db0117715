// Package apidiff reports what changed between two versions of an OpenAPI
// document and what each change breaks, with oasdiff's checker and its
// default rules, and decides whether a release may carry those changes
// (Report.Gate).
package apidiff

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// Level is how much a change matters to the users of the API.
type Level int

// The levels, from least to most severe.
const (
	// Info is a change that breaks no client, such as a new operation.
	Info Level = iota + 1
	// Warn is a change that may break a client, depending on how it is used.
	Warn
	// Err is a change that breaks clients: a breaking change.
	Err
)

// Levels lists the levels, most severe first.
var Levels = []Level{Err, Warn, Info}

var levelNames = map[Level]string{Info: "INFO", Warn: "WARN", Err: "ERR"}

func (l Level) String() string {
	if n, ok := levelNames[l]; ok {
		return n
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel reads ERR, WARN or INFO, in any case.
func ParseLevel(s string) (Level, error) {
	for l, n := range levelNames {
		if strings.EqualFold(s, n) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q: want ERR, WARN or INFO", s)
}

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) (err error) {
	*l, err = ParseLevel(string(b))
	return err
}

func levelOf(l checker.Level) Level {
	switch {
	case l >= checker.ERR:
		return Err
	case l >= checker.WARN:
		return Warn
	default:
		return Info
	}
}

// Finding is one change between the two documents, as one of oasdiff's
// rules reports it.
type Finding struct {
	Level Level `json:"level"`
	// Rule is the id of the oasdiff rule that found it, such as
	// "request-parameter-enum-value-removed".
	Rule string `json:"rule"`
	// Text says what changed, with names and values in backticks.
	Text string `json:"text"`
	// Comment, when the rule has one, says why it matters.
	Comment string `json:"comment,omitempty"`
	// Method, Path and OperationID name the operation changed; all empty
	// for a change outside the paths (a component, the security schemes).
	Method      string `json:"method,omitempty"`
	Path        string `json:"path,omitempty"`
	OperationID string `json:"operationId,omitempty"`
	// Section is the part of the document changed: "paths",
	// "components", "security"...
	Section string `json:"section"`

	plain string // Text with names and values in single quotes
}

// Where is the operation changed ("GET /pets"), or the section of the
// document when the change is not about one operation.
func (f Finding) Where() string {
	if f.Path == "" {
		return f.Section
	}
	return strings.TrimSpace(f.Method + " " + f.Path)
}

// Document is one side of a comparison.
type Document struct {
	// Source names where the document was read from.
	Source string `json:"source"`
	// Version is the document's info.version.
	Version string `json:"version"`
}

// Report is what changed from Base to Revision, most severe first.
type Report struct {
	Base     Document  `json:"base"`
	Revision Document  `json:"revision"`
	Findings []Finding `json:"findings"`
}

// Count is the number of findings at level or above.
func (r *Report) Count(level Level) int {
	n := 0
	for _, f := range r.Findings {
		if f.Level >= level {
			n++
		}
	}
	return n
}

// Has says whether a finding is at level or above.
func (r *Report) Has(level Level) bool { return r.Count(level) > 0 }

// LoadFile reads and validates an OpenAPI 3.0 document from a file.
func LoadFile(path string) (*load.SpecInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load parses and validates an OpenAPI 3.0 document (YAML or JSON); name
// says where it came from in messages. Each document gets its own loader,
// so two documents of the same name do not share a cache.
func Load(name string, data []byte) (*load.SpecInfo, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromDataWithPath(data, &url.URL{Path: name})
	if err != nil {
		return nil, fmt.Errorf("%s: not an OpenAPI document: %w", name, err)
	}
	if doc.OpenAPI == "" || doc.Info == nil {
		return nil, fmt.Errorf("%s: not an OpenAPI document: no openapi version or info", name)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s: invalid OpenAPI document: %w", name, err)
	}
	return &load.SpecInfo{Source: load.NewFileSource(name), Spec: doc, Version: doc.Info.Version}, nil
}

// CompareFiles loads two documents and compares them.
func CompareFiles(basePath, revisionPath string) (*Report, error) {
	base, err := LoadFile(basePath)
	if err != nil {
		return nil, err
	}
	revision, err := LoadFile(revisionPath)
	if err != nil {
		return nil, err
	}
	return Compare(base, revision)
}

// Compare runs every default rule of oasdiff's checker over the changes
// from base to revision, and returns every finding, INFO included.
func Compare(base, revision *load.SpecInfo) (*Report, error) {
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), base, revision)
	if err != nil {
		return nil, fmt.Errorf("compare %s and %s: %w", base.Source.DisplayPath(), revision.Source.DisplayPath(), err)
	}
	changes := checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.INFO)
	l := checker.NewDefaultLocalizer()
	r := &Report{
		Base:     Document{Source: base.Source.DisplayPath(), Version: base.Version},
		Revision: Document{Source: revision.Source.DisplayPath(), Version: revision.Version},
		Findings: make([]Finding, 0, len(changes)),
	}
	for _, c := range changes {
		f := Finding{
			Level:       levelOf(c.GetLevel()),
			Rule:        c.GetId(),
			Text:        c.Text(l, backticks),
			plain:       c.Text(l, quoted),
			Comment:     c.GetComment(l),
			Method:      c.GetOperation(),
			Path:        c.GetPath(),
			OperationID: c.GetOperationId(),
			Section:     c.GetSection(),
		}
		r.Findings = append(r.Findings, f)
	}
	// Most severe first, in the checker's order within a level.
	slices.SortStableFunc(r.Findings, func(a, b Finding) int { return int(b.Level - a.Level) })
	return r, nil
}

func backticks(s string) string { return "`" + s + "`" }
func quoted(s string) string    { return "'" + s + "'" }
