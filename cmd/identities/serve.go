package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/sqlite"
)

func init() {
	commands["serve"] = command{summary: "run the API server", run: serve}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := fs.String("db", "identities.db", "SQLite database file (created if missing)")
	basePath := fs.String("base-path", "/public", "path the API is mounted under")
	demo := fs.Bool("demo", false, "seed demo data into an empty database and print a ready API key")
	mode := fs.String("validate-responses", "strict", "response validation: strict, log or off")
	rateLimit := fs.Int("rate-limit", 500, "requests per minute per client address (0 disables)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	shutdownGrace := fs.Duration("shutdown-timeout", 15*time.Second, "how long in-flight requests may finish on SIGTERM")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var trusted []netip.Prefix
	for _, p := range proxies {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return usagef("--trusted-proxy %q: %v", p, err)
		}
		trusted = append(trusted, pfx)
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	switch *logFormat {
	case "text":
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return usagef("--log-format must be text or json")
	}
	log := slog.New(handler)

	st, err := sqlite.Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if *demo {
		if err := demoData(ctx, st, *addr, *basePath, stdout, log); err != nil {
			return err
		}
	}
	srv, err := server.New(server.Config{
		Store: st, BasePath: *basePath, ResponseValidation: server.ValidationMode(*mode),
		RateLimit: *rateLimit, TrustedProxies: trusted, Logger: log,
	})
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_path", *basePath, "db", *dbPath, "validate_responses", *mode, "rate_limit", *rateLimit)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// demoData seeds the default dataset into an empty database, then creates
// a read-write key for the first company's first user and prints how to use it.
func demoData(ctx context.Context, st *sqlite.Store, addr, basePath string, stdout io.Writer, log *slog.Logger) error {
	d, err := seed.Generate(seed.DefaultOptions)
	if err != nil {
		return err
	}
	switch err := st.Load(ctx, store.Whole(d)); {
	case errors.Is(err, store.ErrNotEmpty):
		log.Info("database already holds data; not seeding")
	case err != nil:
		return err
	default:
		log.Info("seeded demo data", "companies", len(d.Companies), "identities", len(d.Identities))
	}
	secret, prefix, digest, err := apikey.New()
	if err != nil {
		return err
	}
	first := d.Companies[0].ID
	var user int64
	for _, u := range d.Users {
		if u.CompanyID == first && u.TermsAgreedAt != nil {
			user = u.ID
			break
		}
	}
	if _, err := st.CreateAPIKey(ctx, store.NewAPIKey{CompanyID: first, UserID: user, Prefix: prefix, Hash: digest, Scopes: []string{apikey.AllReadWrite}}, time.Now()); err != nil {
		return fmt.Errorf("create demo key: %w", err)
	}
	base := "http://" + addr + "/" + strings.Trim(basePath, "/")
	fmt.Fprintf(stdout, "Demo API key (company %d, user %d, scope read-write):\n\n  export DRATA_API_TOKEN=%s\n\nTry:\n\n  curl -s -H \"Authorization: Bearer $DRATA_API_TOKEN\" '%s/user-identities/infrastructure?limit=2'\n\n", first, user, secret, base)
	return nil
}
