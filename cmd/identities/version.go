package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	commands["version"] = command{summary: "print the module version, commit and Go version", run: versionCmd}
}

func versionCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, versionLine())
	return nil
}

// buildVersion is what the build says of this program: the module version
// ("(devel)" when built from a checkout), the commit it was built from,
// with "+dirty" when the tree had changes, and the Go version.
type buildVersion struct {
	Module, Commit, Go string
}

func readBuildVersion() buildVersion {
	v := buildVersion{Module: "(unknown)", Commit: "unknown", Go: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Go = info.Main.Version, info.GoVersion
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty {
		v.Commit += "+dirty"
	}
	return v
}

func versionLine() string {
	v := readBuildVersion()
	return fmt.Sprintf("identities %s (commit %s, %s)", v.Module, v.Commit, v.Go)
}
