package main

import (
	"flag"
	"os"
	"strings"
)

// envPrefix starts the environment variables that serve's flags read.
const envPrefix = "IDENTITIES_"

// envName is the variable a flag reads: IDENTITIES_ and the flag's name in
// upper case, dashes as underscores (--rate-limit: IDENTITIES_RATE_LIMIT).
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// withEnv names each flag's variable in its help text and sets the flags
// whose variables are set; the command line, parsed after, overrides them.
// A variable whose value the flag refuses is a usage error naming it.
func withEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		f.Usage += " [$" + name + "]"
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = usagef("$%s: %v", name, serr)
			}
		}
	})
	return err
}
