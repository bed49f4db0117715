package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/checking"
	"github.com/identities-go/identities/gen"
)

// tokenEnv is the environment variable the API token is read from when
// --token is not given.
const tokenEnv = "DRATA_API_TOKEN"

// baseURLEnv is the environment variable the base URL is read from when
// --base-url is not given.
const baseURLEnv = "DRATA_API_BASE_URL"

func init() {
	commands[infrastructureCmd.name] = command{
		summary: "list and change infrastructure identities through the API (list|connect|disconnect|access|service-account)",
		run:     infrastructureCmd.run,
		subs:    infrastructureCmd.subcommands(),
	}
	commands[versionControlCmd.name] = command{
		summary: "list and change version control identities through the API (list|connect|disconnect|access|service-account)",
		run:     versionControlCmd.run,
		subs:    versionControlCmd.subcommands(),
	}
}

var infrastructureCmd = &family[*client.InfrastructureService, client.InfrastructureListOptions, gen.InfrastructureIdentityPage, gen.InfrastructureIdentity, gen.InfrastructureToggleField]{
	name:       "infrastructure",
	clientType: string(gen.InfrastructureClientTypeAWS),
	service:    func(c *client.Client) *client.InfrastructureService { return c.Infrastructure },
	options: func(q listQuery) (*client.InfrastructureListOptions, error) {
		ct, sort, dir, err := listEnums[gen.InfrastructureClientType, gen.InfrastructureSort](q)
		return &client.InfrastructureListOptions{Page: q.page, Limit: q.limit, Q: q.q, ClientType: ct, ConnectionID: q.connectionID, Sort: sort, SortDir: dir}, err
	},
	items: func(p *gen.InfrastructureIdentityPage) []gen.InfrastructureIdentity { return p.Data },
	row: func(i *gen.InfrastructureIdentity) row {
		return row{i.Id, i.IdentityId, i.Username, i.Email, i.User, i.Connection, i.HasMfa, [2]*time.Time{i.AdminAccess, i.DbAccess}, i.ServiceAccount}
	},
	access: [2]string{"ADMIN", "DB"},
	fields: map[string]gen.InfrastructureToggleField{
		"admin": gen.InfrastructureToggleFieldINFRASTRUCTUREADMINACCESS,
		"db":    gen.InfrastructureToggleFieldINFRASTRUCTUREDBACCESS,
	},
}

var versionControlCmd = &family[*client.VersionControlService, client.VersionControlListOptions, gen.VersionControlIdentityPage, gen.VersionControlIdentity, gen.VersionControlToggleField]{
	name:       "version-control",
	clientType: string(gen.VersionControlClientTypeGITHUB),
	service:    func(c *client.Client) *client.VersionControlService { return c.VersionControl },
	options: func(q listQuery) (*client.VersionControlListOptions, error) {
		ct, sort, dir, err := listEnums[gen.VersionControlClientType, gen.VersionControlSort](q)
		return &client.VersionControlListOptions{Page: q.page, Limit: q.limit, Q: q.q, ClientType: ct, ConnectionID: q.connectionID, Sort: sort, SortDir: dir}, err
	},
	items: func(p *gen.VersionControlIdentityPage) []gen.VersionControlIdentity { return p.Data },
	row: func(i *gen.VersionControlIdentity) row {
		return row{i.Id, i.IdentityId, i.Username, i.Email, i.User, i.Connection, i.HasMfa, [2]*time.Time{i.WriteAccess, i.PushProductionCodeAccess}, i.ServiceAccount}
	},
	access: [2]string{"WRITE", "PUSH"},
	fields: map[string]gen.VersionControlToggleField{
		"write": gen.VersionControlToggleFieldVERSIONCONTROLWRITEACCESS,
		"push":  gen.VersionControlToggleFieldVERSIONCONTROLPUSHPRODCODEACCESS,
	},
}

// enum is a string enum of the generated types.
type enum interface {
	~string
	Valid() bool
}

// service is the method set both services of the client share: O is a
// family's list options, P its page, I its identity and F its toggle field.
type service[O, P, I any, F enum] interface {
	List(ctx context.Context, opts *O) (*P, *client.Response, error)
	All(ctx context.Context, opts *O) iter.Seq2[client.Listed[I], error]
	Connect(ctx context.Context, id, userID int64) (*I, *client.Response, error)
	Disconnect(ctx context.Context, id int64) (*I, *client.Response, error)
	SetAccess(ctx context.Context, id int64, field F, on bool) (*I, *client.Response, error)
	SetServiceAccount(ctx context.Context, id int64, mark bool, reason string) (*I, *client.Response, error)
}

// family is what the commands of one identity family need: its service of
// the client (S) and how to read its types.
type family[S service[O, P, I, F], O, P, I any, F enum] struct {
	name       string // the command: infrastructure or version-control
	clientType string // a client type, for help texts

	service func(*client.Client) S

	// options turns the list flags into the family's list options; a wrong
	// enum value is a usage error.
	options func(listQuery) (*O, error)
	items   func(*P) []I
	row     func(*I) row
	// access heads the table columns of the two access flags.
	access [2]string
	// fields maps the short names --field takes to the API's toggle fields.
	fields map[string]F
}

// subcommand is one verb of a command (a family's, or keys).
type subcommand struct {
	name, synopsis string
	run            func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func (f *family[S, O, P, I, F]) subcommands() []subcommand {
	return []subcommand{
		{"list", "[--all] [--page N] [--limit N] [--q TEXT] [--client-type T] [--connection-id N] [--sort KEY] [--sort-dir ASC|DESC]", f.listCmd},
		{"connect", "ID --user USER_ID", f.connectCmd},
		{"disconnect", "ID", f.disconnectCmd},
		{"access", "ID --field " + strings.Join(f.aliases(), "|") + " --on|--off", f.accessCmd},
		{"service-account", "ID --reason REASON --on|--off", f.serviceAccountCmd},
	}
}

func (f *family[S, O, P, I, F]) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	subs := f.subcommands()
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	if len(args) == 0 {
		return usagef("%s needs a subcommand: %s", f.name, strings.Join(names, ", "))
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		f.usage(stderr, subs)
		return flag.ErrHelp
	}
	i := slices.IndexFunc(subs, func(s subcommand) bool { return s.name == args[0] })
	if i < 0 {
		return usagef("unknown %s subcommand %q: want %s", f.name, args[0], strings.Join(names, ", "))
	}
	if err := subs[i].run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// "identities infrastructure: connect: …"; the wrapping keeps the
		// exit code (usageError, *exitError) within reach of run.
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

func (f *family[S, O, P, I, F]) usage(w io.Writer, subs []subcommand) {
	fmt.Fprintf(w, "usage: identities %s SUBCOMMAND [flags]\n\nsubcommands:\n", f.name)
	for _, s := range subs {
		fmt.Fprintf(w, "  %s %s\n", s.name, s.synopsis)
	}
	fmt.Fprintf(w, "\nEvery subcommand takes --base-url (default %s), --token (default $%s),\n"+
		"--json, --check-responses, --timeout and --retries; \"identities %s SUBCOMMAND -h\" says more.\n"+
		"Exit codes: 0 done, 1 the API answered with an error (or broke the contract), 2 wrong command line,\n3 no answer from the API (unreachable, timed out).\n",
		client.DefaultBaseURL, tokenEnv, f.name)
}

// aliases are the short names of the access flags, sorted.
func (f *family[S, O, P, I, F]) aliases() []string { return slices.Sorted(maps.Keys(f.fields)) }

// flags makes the flag set of a subcommand with the flags every one of them
// takes.
func (f *family[S, O, P, I, F]) flags(sub string, stderr io.Writer) (*flag.FlagSet, *apiFlags) {
	fs := newFlagSet(f.name+" "+sub, stderr)
	var synopsis string
	for _, s := range f.subcommands() {
		if s.name == sub {
			synopsis = s.synopsis
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: identities %s %s %s [flags]\n\nflags:\n", f.name, sub, synopsis)
		fs.PrintDefaults()
	}
	a := &apiFlags{}
	base := client.DefaultBaseURL
	if v := os.Getenv(baseURLEnv); v != "" {
		base = v
	}
	fs.StringVar(&a.baseURL, "base-url", base, "the API's base URL, base path included (default: $"+baseURLEnv+", else Drata's)")
	fs.StringVar(&a.token, "token", "", "API token (default: $"+tokenEnv+", which keeps it out of the process list)")
	fs.BoolVar(&a.json, "json", false, "print the API's JSON objects instead of a table")
	fs.BoolVar(&a.check, "check-responses", false, "check every response against the API's contract; a violation fails the command")
	fs.DurationVar(&a.timeout, "timeout", client.DefaultTimeout, "timeout of each HTTP attempt")
	fs.IntVar(&a.retries, "retries", client.DefaultRetryPolicy().MaxRetries, "how many times a failed request is sent again (429, 502-504, network errors)")
	return fs, a
}

func (f *family[S, O, P, I, F]) listCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := f.flags("list", stderr)
	var q listQuery
	fs.Int64Var(&q.page, "page", 0, "page to return, from 1 (default: the API's, 1); with --all the page to start from")
	fs.Int64Var(&q.limit, "limit", 0, "identities a page holds, at most 50 (default: the API's, 20)")
	fs.StringVar(&q.q, "q", "", "keep identities whose identity id, username or email contains this text")
	fs.StringVar(&q.clientType, "client-type", "", "keep identities of connections of this client type, such as "+f.clientType)
	fs.Int64Var(&q.connectionID, "connection-id", 0, "keep identities found through this connection")
	fs.StringVar(&q.sort, "sort", "", "what to sort by, such as USERNAME (the default) or IDENTITY_ID")
	fs.StringVar(&q.sortDir, "sort-dir", "", "ASC (the default) or DESC")
	all := fs.Bool("all", false, "walk every page (from --page on) and print every identity")
	if _, err := parseArgs(fs, args, 0, ""); err != nil {
		return err
	}
	var err error
	fs.Visit(func(fl *flag.Flag) { // 0 would read as "the API's default"
		if (fl.Name == "page" && q.page < 1) || (fl.Name == "limit" && q.limit < 1) {
			err = usagef("--%s must be at least 1, got %s", fl.Name, fl.Value)
		}
	})
	if err != nil {
		return err
	}
	opts, err := f.options(q)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	svc := f.service(c)
	if !*all {
		p, resp, err := svc.List(ctx, opts)
		if err != nil {
			return apiFailure(err)
		}
		if a.json {
			return writeJSON(stdout, p)
		}
		t := newTable(stdout, f.access)
		for _, it := range f.items(p) {
			t.add(f.row(&it))
		}
		if err := t.flush(); err != nil {
			return err
		}
		pages := max(1, (resp.Total+resp.Limit-1)/max(resp.Limit, 1))
		fmt.Fprintf(stdout, "\npage %d of %d, %d identities in all", resp.Page, pages, resp.Total)
		if resp.NextPage > 0 {
			fmt.Fprintf(stdout, "; next: --page %d (or --all)", resp.NextPage)
		}
		fmt.Fprintln(stdout)
		return nil
	}

	var out sink
	if a.json {
		out = &jsonArray{w: stdout}
	} else {
		out = newTable(stdout, f.access)
	}
	prog := &progress{w: stderr, on: isTerminal(stderr)}
	for it, err := range svc.All(ctx, opts) {
		if err != nil {
			prog.done()
			// What was fetched is printed, but a JSON array is left
			// open, so that no program takes it for the whole list;
			// when nothing was, stdout stays empty.
			if prog.n > 0 {
				_ = out.flush()
			}
			return apiFailure(err)
		}
		if err := out.item(it.Identity, f.row(it.Identity)); err != nil {
			return err
		}
		prog.add(it.Response)
	}
	prog.done()
	return out.close()
}

func (f *family[S, O, P, I, F]) connectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := f.flags("connect", stderr)
	user := fs.Int64("user", 0, "the Drata user to link the identity to (required)")
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	if *user < 1 {
		return usagef("--user USER_ID is required and must be positive")
	}
	return f.write(ctx, a, stdout, func(s S) (*I, *client.Response, error) { return s.Connect(ctx, id, *user) })
}

func (f *family[S, O, P, I, F]) disconnectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := f.flags("disconnect", stderr)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	return f.write(ctx, a, stdout, func(s S) (*I, *client.Response, error) { return s.Disconnect(ctx, id) })
}

func (f *family[S, O, P, I, F]) accessCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	aliases := f.aliases()
	fs, a := f.flags("access", stderr)
	name := fs.String("field", "", "the access flag: "+strings.Join(aliases, " or ")+", or the API's name, such as "+string(f.fields[aliases[0]])+" (required)")
	on, off := onOff(fs, "set the access flag", "clear the access flag")
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	field, err := f.field(*name)
	if err != nil {
		return err
	}
	set, err := exactlyOne(*on, *off)
	if err != nil {
		return err
	}
	return f.write(ctx, a, stdout, func(s S) (*I, *client.Response, error) { return s.SetAccess(ctx, id, field, set) })
}

// field reads --field: an alias such as admin, or the API's toggleField.
func (f *family[S, O, P, I, F]) field(name string) (F, error) {
	if name == "" {
		return "", usagef("--field is required")
	}
	if v, ok := f.fields[strings.ToLower(name)]; ok {
		return v, nil
	}
	if v := F(strings.ToUpper(name)); v.Valid() {
		return v, nil
	}
	return "", usagef("--field %q: want one of %s, or %s", name, strings.Join(f.aliases(), ", "), strings.Join(choices[F](), ", "))
}

func (f *family[S, O, P, I, F]) serviceAccountCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, a := f.flags("service-account", stderr)
	reason := fs.String("reason", "", "why the identity is (or is no longer) a service account (required)")
	on, off := onOff(fs, "mark the identity as a service account", "unmark it")
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	mark, err := exactlyOne(*on, *off)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("--reason is required")
	}
	return f.write(ctx, a, stdout, func(s S) (*I, *client.Response, error) { return s.SetServiceAccount(ctx, id, mark, *reason) })
}

// write builds the client, calls do and prints the identity it returns.
func (f *family[S, O, P, I, F]) write(ctx context.Context, a *apiFlags, stdout io.Writer, do func(S) (*I, *client.Response, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	it, _, err := do(f.service(c))
	if err != nil {
		return apiFailure(err)
	}
	if a.json {
		return writeJSON(stdout, it)
	}
	t := newTable(stdout, f.access)
	t.add(f.row(it))
	return t.flush()
}

// apiFlags are the flags of every client command.
type apiFlags struct {
	baseURL, token string
	json, check    bool
	timeout        time.Duration
	retries        int
}

// client builds the API client; a bad flag or a missing token is a usage
// error.
func (a *apiFlags) client() (*client.Client, error) {
	token := a.token
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	if token == "" {
		return nil, usagef("no API token: pass --token or set %s", tokenEnv)
	}
	if a.retries < 0 {
		return nil, usagef("--retries must not be negative")
	}
	opts := []client.Option{
		client.WithBaseURL(a.baseURL),
		client.WithToken(token),
		client.WithTimeout(a.timeout),
		client.WithRetry(client.RetryPolicy{MaxRetries: a.retries}),
		client.WithUserAgent(client.DefaultUserAgent + " identities-cli"),
	}
	if a.check {
		opts = append(opts, checking.WithResponseChecking())
	}
	c, err := client.New(opts...)
	if err != nil {
		return nil, usageError{err}
	}
	return c, nil
}

// listQuery holds the list flags before they become a family's options.
type listQuery struct {
	page, limit, connectionID    int64
	q, clientType, sort, sortDir string
}

// listEnums reads the enum flags of a list: client type C and sort key K.
func listEnums[C, K enum](q listQuery) (C, K, gen.SortDir, error) {
	ct, err1 := enumFlag[C]("client-type", q.clientType)
	sort, err2 := enumFlag[K]("sort", q.sort)
	dir, err3 := enumFlag[gen.SortDir]("sort-dir", q.sortDir)
	return ct, sort, dir, errors.Join(err1, err2, err3)
}

// enumFlag reads the value of flag name as an enum of the API, ignoring
// case; "" stays "" (the API's default).
func enumFlag[T enum](name, value string) (T, error) {
	v := T(strings.ToUpper(strings.TrimSpace(value)))
	if v == "" || v.Valid() {
		return v, nil
	}
	return "", usagef("--%s %q: want one of %s", name, value, strings.Join(choices[T](), ", "))
}

// choices lists the values of the enum T as the API document declares them
// (the generated type has the schema's name).
func choices[T enum]() []string {
	name := fmt.Sprintf("%T", T(""))
	name = name[strings.LastIndexByte(name, '.')+1:]
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		return nil
	}
	ref, ok := doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		return nil
	}
	var out []string
	for _, v := range ref.Value.Enum {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// onOff defines --on and --off.
func onOff(fs *flag.FlagSet, onUsage, offUsage string) (on, off *bool) {
	return fs.Bool("on", false, onUsage), fs.Bool("off", false, offUsage)
}

// exactlyOne checks that exactly one of --on and --off was given and says
// which.
func exactlyOne(on, off bool) (bool, error) {
	if on == off {
		return false, usagef("give exactly one of --on and --off")
	}
	return on, nil
}

// parseArgs parses flags placed before, between or after the positional
// arguments (the flag package stops at the first positional one) and returns
// the positional ones, which must number exactly n; what names them in
// messages.
func parseArgs(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) < n:
		return nil, usagef("missing %s", what)
	case len(pos) > n:
		return nil, usagef("unexpected arguments: %s", strings.Join(pos[n:], " "))
	}
	return pos, nil
}

// parseID parses the flags and the one positional argument, the identity id.
func parseID(fs *flag.FlagSet, args []string) (int64, error) {
	pos, err := parseArgs(fs, args, 1, "the identity ID")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("identity ID %q: want a positive integer", pos[0])
	}
	return id, nil
}

// apiFailure gives an error of the client its exit code: 1 when the API
// answered with an error status or broke the contract, 3 when no answer came
// (unreachable server, refused connection, timeout, TLS failure).
func apiFailure(err error) error {
	var (
		violation *client.ResponseViolationError
		apiErr    *client.APIError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &violation):
		msg := "the response breaks the API's contract: " + clean(violation.Error())
		if errors.As(err, &apiErr) && apiErr.RequestID != "" {
			msg += " (request id " + clean(apiErr.RequestID) + ")"
		}
		return &exitError{code: exitFailure, err: errors.New(msg)}
	case errors.As(err, &apiErr):
		return &exitError{code: exitFailure, err: errors.New(describeAPIError(apiErr))}
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return &exitError{code: exitNetwork, err: fmt.Errorf("no answer from the API: %w", err)}
	}
	return err
}

// describeAPIError says what the API answered: status, code, message, the
// offending inputs and the request id to quote to support.
func describeAPIError(e *client.APIError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the API answered %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + clean(string(e.Code)))
	}
	if e.Message != "" {
		b.WriteString(": " + clean(e.Message))
	}
	for _, fe := range e.Fields {
		fmt.Fprintf(&b, "\n  %s %s: %s", clean(string(fe.Location)), clean(fe.Field), clean(fe.Message))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "\n  retry after: %v", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString("\n  request id: " + clean(e.RequestID))
	}
	return b.String()
}
