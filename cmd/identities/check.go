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
	"time"

	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/contract"
)

func init() {
	commands["check"] = command{summary: "check a server's answers against the contract", run: checkCmd}
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

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr)
	baseURL := fs.String("base-url", "", "the API's base URL, base path included, e.g. https://public-api.drata.com/public (required)")
	token := fs.String("token", "", "API key (default: $DRATA_API_TOKEN)")
	specPath := fs.String("spec", "", "OpenAPI document to check against (default: the embedded one)")
	write := fs.Bool("write", false, "also exercise the three PUTs on the given identities and restore them (the timestamps the API sets itself excepted)")
	infraID := fs.Int64("infrastructure-id", 0, "with --write: the infrastructure identity to change and restore")
	vcsID := fs.Int64("version-control-id", 0, "with --write: the version control identity to change and restore")
	format := fs.String("format", "text", "report format: text, json or junit")
	maxPages := fs.Int("max-pages", 20, "pages of each list to walk")
	perMinute := fs.Int("rate", 240, "requests per minute at most")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout of each request")
	if err := parse(fs, args); err != nil {
		return err
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
	if *token == "" {
		*token = os.Getenv("DRATA_API_TOKEN")
	}
	v, err := loadValidator(*specPath, *baseURL)
	if err != nil {
		return err
	}
	cfg := conformance.Config{
		BaseURL: *baseURL, Token: *token, Validator: v, MaxPages: *maxPages, RatePerMinute: *perMinute,
		HTTPClient: &http.Client{Timeout: *timeout},
		Logger:     slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if *write {
		cfg.InfrastructureID, cfg.VersionControlID = *infraID, *vcsID
	}
	report, runErr := conformance.Run(ctx, cfg)
	if runErr != nil && report == nil {
		return runErr
	}
	// An interrupted run still reports what it did, restores included.
	switch *format {
	case "json":
		err = report.WriteJSON(stdout)
	case "junit":
		err = report.WriteJUnit(stdout)
	default:
		err = report.WriteText(stdout)
	}
	if runErr != nil {
		var ne net.Error
		if errors.As(runErr, &ne) {
			return &exitError{code: exitNetwork, err: runErr}
		}
		return runErr
	}
	if err != nil {
		return err
	}
	if report.Failed() {
		if allUnreachable(report) {
			return &exitError{code: exitNetwork, err: errors.New("the server could not be reached")}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("%d violations of the contract", report.Violations())}
	}
	return nil
}

// allUnreachable reports whether no request got an answer at all.
func allUnreachable(r *conformance.Report) bool {
	for _, c := range r.Checks {
		if c.Status != 0 {
			return false
		}
	}
	return len(r.Checks) > 0
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
