package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

func init() {
	commands["seed"] = command{summary: "fill an empty database with deterministic demo data", run: seedCmd}
	commands["keys"] = command{summary: "create, list and revoke API keys (keys create|list|revoke)", run: keysCmd, subs: keysSubcommands}
}

func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", stderr)
	dbPath := fs.String("db", "", dbHelp+" (required; must hold no data)")
	companies := fs.Int("companies", seed.DefaultOptions.Companies, "how many companies")
	identities := fs.Int("identities", seed.DefaultOptions.Identities, "identities of each family per company")
	randSeed := fs.Uint64("rand-seed", seed.DefaultOptions.Seed, "seed of the generator: the same seed gives the same data")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dbPath == "" {
		return usagef("--db is required")
	}
	o := seed.Options{Companies: *companies, Identities: *identities, Seed: *randSeed}
	if err := o.Validate(); err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return err
	}
	defer st.Close()
	// The data goes to the store part by part, and only its summary is kept.
	var sum seed.Summary
	parts := func(yield func(*store.Dataset, error) bool) {
		for part, err := range seed.Stream(o, seedPartSize) {
			if err == nil {
				sum.Add(part)
			}
			if !yield(part, err) {
				return
			}
		}
	}
	if err := st.Load(ctx, parts); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return enc.Encode(sum)
}

// seedPartSize is how many identities the seed command loads at a time.
const seedPartSize = 10_000

// keysSubcommands are the verbs of keys.
var keysSubcommands = []subcommand{
	{"create", "--db DB --company ID [--user ID] [--scope S]... [--expires D] [--allow-ip CIDR]...", keysCreate},
	{"list", "--db DB [--company ID] [--json]", keysList},
	{"revoke", "--db DB --id ID", keysRevoke},
}

func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("keys needs a subcommand: create, list or revoke")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stderr, "usage: identities keys SUBCOMMAND [flags]\n\nsubcommands:")
		for _, s := range keysSubcommands {
			fmt.Fprintf(stderr, "  %s %s\n", s.name, s.synopsis)
		}
		fmt.Fprintln(stderr, "\n\"identities keys SUBCOMMAND -h\" lists its flags.")
		return flag.ErrHelp
	}
	for _, s := range keysSubcommands {
		if s.name == args[0] {
			return s.run(ctx, args[1:], stdout, stderr)
		}
	}
	return usagef("unknown keys subcommand %q: create, list or revoke", args[0])
}

// parseExpiry reads a duration from now ("720h") or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return nil, fmt.Errorf("--expires duration must be positive")
		}
		t := now.Add(d)
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--expires %q is neither a duration nor an RFC 3339 time", s)
	}
	return &t, nil
}

func keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys create", stderr)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	company := fs.Int64("company", 0, "company id (required)")
	user := fs.Int64("user", 0, "acting user id (default: the company's first user)")
	expires := fs.String("expires", "", "expiry: a duration such as 720h, or an RFC 3339 time")
	var scopes, nets listFlag
	fs.Var(&scopes, "scope", "scope, repeatable: "+fmt.Sprint(apikey.Known)+" (default read-write)")
	fs.Var(&nets, "allow-ip", "CIDR or address the key may be used from (repeatable; default any)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dbPath == "" || *company == 0 {
		return usagef("--db and --company are required")
	}
	if len(scopes) == 0 {
		scopes = listFlag{apikey.AllReadWrite}
	}
	if err := apikey.ValidateScopes(scopes); err != nil {
		return usageError{err}
	}
	if err := apikey.ValidateNets(nets); err != nil {
		return usageError{err}
	}
	now := time.Now()
	exp, err := parseExpiry(*expires, now)
	if err != nil {
		return usageError{err}
	}
	st, err := openStore(ctx, *dbPath, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if *user == 0 {
		if *user, err = st.FirstUser(ctx, *company); err != nil {
			return err
		}
	}
	secret, _, err := apikey.Issue(ctx, st, apikey.Grant{CompanyID: *company, UserID: *user, Scopes: scopes, AllowedNets: nets, ExpiresAt: exp}, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, secret)
	return err
}

func keysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys list", stderr)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	company := fs.Int64("company", 0, "only this company's keys")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dbPath == "" {
		return usagef("--db is required")
	}
	st, err := openStore(ctx, *dbPath, false)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.ListAPIKeys(ctx, *company)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]keyJSON, len(keys))
		for i, k := range keys {
			out[i] = keyJSON{k.ID, k.CompanyID, k.UserID, k.Prefix, k.Scopes, k.AllowedNets, k.ExpiresAt, k.RevokedAt, k.CreatedAt}
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tCOMPANY\tUSER\tSCOPES\tALLOWED\tEXPIRES\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%d\t%s…\t%d\t%d\t%v\t%v\t%s\t%s\n", k.ID, k.Prefix, k.CompanyID, k.UserID, k.Scopes, k.AllowedNets, timeOrDash(k.ExpiresAt), timeOrDash(k.RevokedAt))
	}
	return tw.Flush()
}

// keyJSON is a key as keys list --json prints it, in the API's camelCase.
type keyJSON struct {
	ID          int64      `json:"id"`
	CompanyID   int64      `json:"companyId"`
	UserID      int64      `json:"userId"`
	Prefix      string     `json:"prefix"`
	Scopes      []string   `json:"scopes"`
	AllowedNets []string   `json:"allowedNets"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	RevokedAt   *time.Time `json:"revokedAt"`
	CreatedAt   time.Time  `json:"createdAt"`
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func keysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys revoke", stderr)
	dbPath := fs.String("db", "", dbHelp+" (required)")
	id := fs.Int64("id", 0, "key id, as keys list shows it (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dbPath == "" || *id == 0 {
		return usagef("--db and --id are required")
	}
	st, err := openStore(ctx, *dbPath, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RevokeAPIKey(ctx, *id, time.Now()); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, "revoked key "+strconv.FormatInt(*id, 10))
	return err
}
