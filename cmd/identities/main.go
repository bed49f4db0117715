// Command identities runs the User Identities API server and its tools.
//
//	identities serve [--addr 127.0.0.1:8080] [--db identities.db] [--demo] ...
//	identities seed --db FILE [--companies N] [--identities N] [--rand-seed S]
//	identities keys create|list|revoke --db FILE ...
//
// Run "identities help" or "identities COMMAND -h" for details.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed, or the API answered with an error
	exitUsage   = 2 // the command line was wrong
	exitNetwork = 3 // the server could not be reached
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	// subs are the verbs of a command that has them (keys create, …);
	// run dispatches to them too.
	subs []subcommand
}

// commands is filled by each command's file.
var commands = map[string]command{}

// usageError marks an error in the command line (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	var ran bool // whether a command's own code ran (else cobra refused the line)
	root := newRoot(ctx, stdout, stderr, &ran)
	root.SetArgs(args)
	err := root.Execute()
	var ue usageError
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case !ran:
		fmt.Fprintf(stderr, "identities: %s\n", oneLine(err))
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "identities %s: %s\n", args[0], oneLine(err))
		return exitUsage
	case errors.As(err, &ee):
		fmt.Fprintf(stderr, "identities %s: %s\n", args[0], oneLine(err))
		return ee.code
	default:
		fmt.Fprintf(stderr, "identities %s: %s\n", args[0], oneLine(err))
		return exitFailure
	}
}

// newRoot builds the command tree on cobra: help (identities help COMMAND,
// COMMAND -h), shell completion (identities completion bash|zsh|fish|
// powershell) and --version. Each command keeps its own flags, which it
// parses itself; ran is set once one of them runs.
func newRoot(ctx context.Context, stdout, stderr io.Writer, ran *bool) *cobra.Command {
	root := &cobra.Command{
		Use:           "identities",
		Short:         "The User Identities API: its server, its data, a client and a contract checker",
		Version:       versionLine(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	leaf := func(use, short string, fn func(ctx context.Context, args []string, stdout, stderr io.Writer) error) *cobra.Command {
		c := &cobra.Command{
			Use: use, Short: short, DisableFlagParsing: true,
			RunE: func(_ *cobra.Command, args []string) error {
				*ran = true
				return fn(ctx, args, stdout, stderr)
			},
		}
		// The command's own flag set prints its help.
		c.SetHelpFunc(func(*cobra.Command, []string) { _ = fn(ctx, []string{"-h"}, stdout, stderr) })
		return c
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		cmd := commands[name]
		if len(cmd.subs) == 0 {
			root.AddCommand(leaf(name, cmd.summary, cmd.run))
			continue
		}
		// The group's own code answers -h and a missing or unknown verb.
		group := leaf(name+" SUBCOMMAND", cmd.summary, cmd.run)
		for _, sub := range cmd.subs {
			group.AddCommand(leaf(sub.name+" "+sub.synopsis, sub.synopsis, func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return cmd.run(ctx, append([]string{sub.name}, args...), stdout, stderr)
			}))
		}
		root.AddCommand(group)
	}
	return root
}

// oneLine is an error's text on one line: some errors (a driver listing
// each address it tried, say) span several.
func oneLine(err error) string {
	var b strings.Builder
	for i, l := range strings.FieldsFunc(err.Error(), func(r rune) bool { return r == '\n' || r == '\r' }) {
		switch prev := b.String(); {
		case i == 0:
		case strings.HasSuffix(prev, ":"):
			b.WriteString(" ")
		default:
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimSpace(l))
	}
	return b.String()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: identities COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("identities "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: identities %s [flags]\n", name)
		if s := synopsis(name); s != "" {
			fmt.Fprintf(stderr, "\n%s\n", s)
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	return fs
}

// synopsis is the one line that describes a command ("serve") or a verb
// of one ("keys create").
func synopsis(name string) string {
	cmd, verb, _ := strings.Cut(name, " ")
	c := commands[cmd]
	if verb == "" {
		return c.summary
	}
	for _, s := range c.subs {
		if s.name == verb {
			return name + " " + s.synopsis
		}
	}
	return ""
}

// parse parses args, turning flag errors into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	return nil
}
