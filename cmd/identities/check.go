package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/contract"
)

func init() {
	commands["check"] = command{summary: "check a server's answers and behaviour against the contract", run: checkCmd}
	commands["proxy"] = command{summary: "forward traffic to a server, validating every exchange", run: proxyCmd}
}

// loadValidator builds the validator from --spec, or the embedded document.
func loadValidator(specPath, baseURL string) (*contract.Validator, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, usagef("%q is not an absolute URL", baseURL)
	}
	if specPath == "" {
		return contract.New(u.Path)
	}
	b, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("read --spec: %w", err)
	}
	return contract.Load(b, u.Path)
}

// checkHelp follows the flags in `identities check -h`.
const checkHelp = `
Checks run read-only unless --write is given. --list prints every check
with the documented rule it enforces. Keys are read from the environment
(DRATA_API_TOKEN, DRATA_READ_API_TOKEN, DRATA_OTHER_API_TOKEN) unless given
as flags, and curl lines in the report name those variables, never a key.

Exit codes:
  0  every check passed
  1  a check failed, or the server refused to be checked (the token was
     rejected, no API under the base URL, a plan or terms error)
  2  the command line is wrong
  3  the server could not be reached
`

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	baseURL := fs.String("base-url", "", "the API's base URL, base path included, e.g. https://public-api.drata.com/public (required)")
	token := fs.String("token", "", "API key (default: $DRATA_API_TOKEN)")
	readToken := fs.String("read-token", "", "a key of the same company without write scopes, to check that PUTs are refused (default: $DRATA_READ_API_TOKEN)")
	otherToken := fs.String("other-token", "", "a key of another company, to check that its identities stay out of sight (default: $DRATA_OTHER_API_TOKEN)")
	specPath := fs.String("spec", "", "OpenAPI document to check against (default: the embedded one)")
	write := fs.Bool("write", false, "also change the given identities with every PUT, check what the API then shows, and restore them (the timestamps the API sets itself excepted)")
	infraID := fs.Int64("infrastructure-id", 0, "with --write: the infrastructure identity to change and restore")
	vcsID := fs.Int64("version-control-id", 0, "with --write: the version control identity to change and restore")
	format := fs.String("format", "text", "report format: text, json or junit")
	seed := fs.Uint64("seed", 1, "seed of the generated inputs: the same seed sends the same requests")
	budget := fs.Int("budget", conformance.DefaultBudget, "how many generated requests to send (0: none)")
	maxPages := fs.Int("max-pages", 20, "pages of each list walk at most")
	perMinute := fs.Int("rate", 0, "requests per minute at most (default: as fast as the server's X-RateLimit-* and Retry-After headers allow)")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of each request")
	only := fs.String("only", "", "run only these checks: comma-separated names or prefixes (paging,sort.order)")
	list := fs.Bool("list", false, "print the checks and their rules, and exit")
	quiet := fs.Bool("quiet", false, "print no progress on stderr")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: identities check --base-url URL [flags]\n\nflags:")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), checkHelp)
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	var spec []byte
	specName := ""
	if *specPath != "" {
		b, err := os.ReadFile(*specPath)
		if err != nil {
			return fmt.Errorf("read --spec: %w", err)
		}
		spec, specName = b, *specPath
	}
	if *list {
		return listChecks(spec, stdout)
	}
	if *baseURL == "" {
		return usagef("--base-url is required")
	}
	if *format != "text" && *format != "json" && *format != "junit" {
		return usagef("--format must be text, json or junit")
	}
	if *write && *infraID == 0 && *vcsID == 0 {
		return usagef("--write needs --infrastructure-id and/or --version-control-id")
	}
	if !*write && (*infraID != 0 || *vcsID != 0) {
		return usagef("--infrastructure-id and --version-control-id go with --write")
	}
	if *budget < 0 {
		return usagef("--budget must not be negative")
	}
	for _, kv := range []struct {
		v   *string
		env string
	}{{token, "DRATA_API_TOKEN"}, {readToken, "DRATA_READ_API_TOKEN"}, {otherToken, "DRATA_OTHER_API_TOKEN"}} {
		if *kv.v == "" {
			*kv.v = os.Getenv(kv.env)
		}
	}
	if *token == "" {
		return usagef("no API key: set DRATA_API_TOKEN or pass --token")
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelError
	}
	cfg := conformance.Config{
		BaseURL: *baseURL, Token: *token, ReadToken: *readToken, OtherToken: *otherToken,
		Spec: spec, SpecName: specName, Seed: *seed, Budget: *budget, MaxPages: *maxPages,
		RatePerMinute: *perMinute, Timeout: *timeout, Logger: progressLogger(stderr, level),
	}
	if *budget == 0 {
		cfg.Budget = -1
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *write {
		cfg.Targets = map[string]int64{}
		if *infraID != 0 {
			cfg.Targets["infrastructure"] = *infraID
		}
		if *vcsID != 0 {
			cfg.Targets["version-control"] = *vcsID
		}
	}
	report, runErr := conformance.Run(ctx, cfg)
	if runErr != nil && !ran(report) { // stopped before any check: its one line says it all
		return classifyRunError(runErr)
	}
	// An interrupted run still reports what it did, restores included.
	var werr error
	switch *format {
	case "json":
		werr = report.WriteJSON(stdout)
	case "junit":
		werr = report.WriteJUnit(stdout)
	default:
		werr = report.WriteText(stdout)
	}
	switch {
	case runErr != nil:
		return classifyRunError(runErr)
	case werr != nil:
		return fmt.Errorf("write the report: %w", werr)
	case !report.Passed():
		failed := 0
		for _, c := range report.Checks {
			if c.Outcome() == "fail" {
				failed++
			}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d checks failed", failed, len(report.Checks))}
	}
	return nil
}

// ran reports whether a run got as far as trying a check.
func ran(r *conformance.Report) bool {
	if r == nil {
		return false
	}
	for _, c := range r.Checks {
		if c.Passed+c.Failed > 0 {
			return true
		}
	}
	return false
}

// classifyRunError gives a run's error its exit code.
func classifyRunError(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, conformance.ErrUnreachable), errors.As(err, &ne):
		return &exitError{code: exitNetwork, err: err}
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitFailure, err: errors.New("interrupted; what was changed has been restored")}
	case errors.Is(err, conformance.ErrTokenRejected), errors.Is(err, conformance.ErrNoAPI), errors.Is(err, conformance.ErrRefused):
		return &exitError{code: exitFailure, err: err}
	}
	if errors.Is(err, conformance.ErrConfig) {
		return usageError{err}
	}
	return err
}

// progressLogger writes progress lines without times: "checking paging".
func progressLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

// listChecks prints every check of the document with its rule.
func listChecks(spec []byte, w io.Writer) error {
	checks, err := conformance.Checks(spec)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-26s %s\n", c.Name, c.Rule)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func proxyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("proxy", stderr)
	upstream := fs.String("upstream", "", "the API's base URL, base path included (required)")
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	specPath := fs.String("spec", "", "OpenAPI document to check against (default: the embedded one)")
	reportPath := fs.String("report", "", "write a JSON summary here on exit (default: stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *upstream == "" {
		return usagef("--upstream is required")
	}
	v, err := loadValidator(*specPath, *upstream)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	p, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: *upstream, Validator: v, Logger: log})
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	log.Info("proxying", "listen", ln.Addr().String(), "upstream", *upstream)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
	}
	summary := p.Summary()
	out := stdout
	if *reportPath != "" {
		f, ferr := os.Create(*reportPath)
		if ferr != nil {
			return fmt.Errorf("write report: %w", ferr)
		}
		defer f.Close()
		out = f
	}
	if werr := summary.WriteJSON(out); werr != nil {
		return fmt.Errorf("write report: %w", werr)
	}
	log.Info("proxy stopped", "exchanges", summary.Exchanges, "violations", len(summary.Violations))
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
