package main

import (
	"context"
	"fmt"
	"io"

	"github.com/identities-go/identities/apidiff"
)

func init() {
	commands["diff"] = command{summary: "what changed between two versions of the OpenAPI document, and what it breaks", run: diffCmd}
}

const diffUsage = `usage: identities diff [flags] OLD NEW

Compares two versions of an OpenAPI document (files) with oasdiff's rules and
reports each change at its level: ERR breaks clients, WARN may break them,
INFO breaks none.

Exit codes: 0 no change at --fail-on or above (with --gate: the gate passes),
1 there is one (with --gate: the gate fails), 2 a wrong command line or a
document that does not load.

flags:
`

func diffCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("diff", stderr)
	format := fs.String("format", string(apidiff.Text), "output: text, json, or markdown (a CHANGELOG section for NEW's info.version)")
	failOn := fs.String("fail-on", apidiff.Err.String(), "exit 1 on a change at this level or above: ERR, WARN or INFO")
	gate := fs.Bool("gate", false, "the release gate: fail on a change at --fail-on or above only when NEW's info.version keeps OLD's major version")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), diffUsage)
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args, 2, "the OLD and NEW documents (identities diff OLD NEW)")
	if err != nil {
		return err
	}
	f, err := apidiff.ParseFormat(*format)
	if err != nil {
		return usageError{fmt.Errorf("--format: %w", err)}
	}
	level, err := apidiff.ParseLevel(*failOn)
	if err != nil {
		return usageError{fmt.Errorf("--fail-on: %w", err)}
	}
	report, err := apidiff.CompareFiles(pos[0], pos[1])
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := report.Render(stdout, f); err != nil {
		return err
	}
	if *gate {
		v := report.Gate(level)
		if !v.Pass {
			return fmt.Errorf("gate failed: %s", v.Reason)
		}
		_, err := fmt.Fprintf(stderr, "identities diff: gate passed: %s\n", v.Reason)
		return err
	}
	if n := report.Count(level); n > 0 {
		return fmt.Errorf("%d %s at %s or above", n, pluralWord(n, "change"), level)
	}
	return nil
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
