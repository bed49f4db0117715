package apidiff

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is a way to write a report.
type Format string

// The formats.
const (
	// Text is one line a finding, most severe first, after a summary line.
	Text Format = "text"
	// JSON is the Report with a count of findings by level.
	JSON Format = "json"
	// Markdown is a CHANGELOG section for the revision's version.
	Markdown Format = "markdown"
)

// Formats lists the formats.
var Formats = []Format{Text, JSON, Markdown}

// ParseFormat reads a format's name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if strings.EqualFold(s, string(f)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: want text, json or markdown", s)
}

// Render writes the report in format f.
func (r *Report) Render(w io.Writer, f Format) error {
	switch f {
	case Text:
		return r.renderText(w)
	case JSON:
		return r.renderJSON(w)
	case Markdown:
		return r.renderMarkdown(w)
	default:
		return fmt.Errorf("unknown format %q: want text, json or markdown", f)
	}
}

// Summary counts the findings of each level ("ERR": 1, ...).
func (r *Report) Summary() map[Level]int {
	s := map[Level]int{Err: 0, Warn: 0, Info: 0}
	for _, f := range r.Findings {
		s[f.Level]++
	}
	return s
}

func (r *Report) summaryLine() string {
	s := r.Summary()
	parts := make([]string, 0, len(Levels))
	for _, l := range Levels {
		parts = append(parts, fmt.Sprintf("%d %s", s[l], l))
	}
	return strings.Join(parts, ", ")
}

func (r *Report) renderText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) -> %s (%s): %s\n", r.Base.Source, r.Base.Version, r.Revision.Source, r.Revision.Version, r.summaryLine())
	for _, f := range r.Findings {
		text := f.plain
		if text == "" {
			text = f.Text
		}
		fmt.Fprintf(&b, "%-4s  %s: %s [%s]\n", f.Level, f.Where(), text, f.Rule)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) renderJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Summary map[Level]int `json:"summary"`
	}{r, r.Summary()})
}

// headings are the markdown headings of each level's findings.
var headings = map[Level]string{
	Err:  "Breaking changes (ERR)",
	Warn: "Changes that may break clients (WARN)",
	Info: "Other changes (INFO)",
}

func (r *Report) renderMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", r.Revision.Version)
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "No change to the contract since %s.\n", r.Base.Version)
	} else {
		fmt.Fprintf(&b, "Changes since %s, as `identities diff` reports them: %s.\n", r.Base.Version, r.summaryLine())
	}
	for _, l := range Levels {
		first := true
		for _, f := range r.Findings {
			if f.Level != l {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n### %s\n\n", headings[l])
				first = false
			}
			fmt.Fprintf(&b, "- `%s`: %s (`%s`)\n", f.Where(), oneLine(f.Text), f.Rule)
			if f.Comment != "" {
				fmt.Fprintf(&b, "  %s\n", oneLine(f.Comment))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// oneLine joins the lines of s with spaces, so a message stays one list item.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
