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
	"github.com/identities-go/identities/internal/tracing"
	"github.com/identities-go/identities/metrics"
	"github.com/identities-go/identities/ratelimit"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
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
	dbPath := fs.String("db", "identities.db", dbHelp+" (a SQLite file is created if missing)")
	basePath := fs.String("base-path", "/public", "path the API is mounted under")
	demo := fs.Bool("demo", false, "seed demo data into an empty database and print a ready API key; on a database that holds data, seed nothing and keep its keys")
	newKey := fs.Bool("new-key", false, "with --demo: issue a new demo key even when the database holds a usable one")
	mode := fs.String("validate-responses", "strict", "response validation: strict, log or off")
	withMetrics := fs.Bool("metrics", true, "serve Prometheus metrics at /metrics")
	rateLimit := fs.Int("rate-limit", 500, "requests per minute per client address (0 disables)")
	rateLimitRedis := fs.String("rate-limit-redis", "", "redis:// URL of a Redis that holds the rate-limit budgets, shared by every replica (default: each process keeps its own)")
	rateLimitPrefix := fs.String("rate-limit-redis-prefix", ratelimit.DefaultPrefix, "with --rate-limit-redis: the start of every key the budgets use, to keep deployments that share a Redis apart")
	rateLimitTimeout := fs.Duration("rate-limit-redis-timeout", ratelimit.DefaultTimeout, "with --rate-limit-redis: how long a request waits for Redis before this process limits it on its own")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	shutdownGrace := fs.Duration("shutdown-timeout", 15*time.Second, "how long in-flight requests may finish on SIGTERM")
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxy", "CIDR of a proxy whose X-Forwarded-For is trusted (repeatable)")
	if err := withEnv(fs); err != nil {
		return err
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *newKey && !*demo {
		return usagef("--new-key goes with --demo")
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

	if *rateLimitTimeout <= 0 {
		return usagef("--rate-limit-redis-timeout must be positive")
	}
	var limiter ratelimit.Limiter
	if *rateLimitRedis != "" {
		if *rateLimit <= 0 {
			return usagef("--rate-limit-redis needs a positive --rate-limit")
		}
		pool, err := ratelimit.NewRedisPool(*rateLimitRedis)
		if err != nil {
			return usagef("--rate-limit-redis: %v", err)
		}
		defer pool.Close()
		shared := ratelimit.NewShared(pool, *rateLimit, ratelimit.SharedOptions{Prefix: *rateLimitPrefix, Timeout: *rateLimitTimeout, Logger: log})
		if err := shared.Ping(ctx); err != nil {
			log.Warn("rate limit: Redis does not answer yet; limiting in this process until it does", "err", err)
		}
		limiter = shared
	}

	// The port first: a busy one fails the command before it touches the
	// database (or mints a demo key).
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()

	now := time.Now // the one clock of the server and of the demo key
	st, err := openStore(ctx, *dbPath, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var welcome func(base string) string
	if *demo {
		if welcome, err = demoData(ctx, st, *dbPath, *newKey, now(), log); err != nil {
			return err
		}
	}
	var m *metrics.Metrics
	if *withMetrics {
		m = metrics.New()
	}
	srv, err := server.New(server.Config{
		Store: st, BasePath: *basePath, ResponseValidation: server.ValidationMode(*mode),
		RateLimit: *rateLimit, RateLimiter: limiter, TrustedProxies: trusted, Logger: log, Now: now, Metrics: m,
	})
	if err != nil {
		return usageError{err}
	}
	if welcome != nil {
		// The address listened on: --addr may have left the port to the system.
		fmt.Fprint(stdout, welcome("http://"+ln.Addr().String()+"/"+strings.Trim(*basePath, "/")))
	}
	// Traces, when the OTEL_* variables ask for them.
	traced, stopTracing, err := tracing.Start(ctx, "identities", readBuildVersion().Module, srv)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(sctx); err != nil {
			log.Warn("tracing: flush at exit", "err", err)
		}
	}()
	hs := &http.Server{
		Handler:           traced,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	bv := readBuildVersion()
	log.Info("starting", "version", bv.Module, "commit", bv.Commit, "go", bv.Go)
	log.Info("serving", "addr", ln.Addr().String(), "base_path", *basePath, "db", displayDB(*dbPath), "validate_responses", *mode, "rate_limit", *rateLimit, "rate_limit_shared", *rateLimitRedis != "")
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	hs.RegisterOnShutdown(func() { log.Info("stopped accepting connections; waiting for requests in flight") })
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

// demoData seeds the default dataset into an empty database and issues a
// read-write key for its first company's first user who accepted the
// terms. A database that already holds data is not seeded, and its newest
// usable key is kept: a restart mints no key unless newKey asks for one,
// which then acts as the newest key's company and user. Either way the
// company and user are the database's, never those of data generated anew.
// demoData returns the message to print once the address is known.
func demoData(ctx context.Context, st store.Store, dbPath string, newKey bool, now time.Time, log *slog.Logger) (func(base string) string, error) {
	d, err := seed.Generate(seed.DefaultOptions)
	if err != nil {
		return nil, err
	}
	var company, user int64
	switch err := st.Load(ctx, store.Whole(d)); {
	case errors.Is(err, store.ErrNotEmpty):
		keys, err := st.ListAPIKeys(ctx, 0) // newest first
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			log.Info("database already holds data; not seeding")
			return func(string) string {
				return fmt.Sprintf("The database already holds data but no API key; make one with\n\n  identities keys create --db %s --company ID\n\n", displayDB(dbPath))
			}, nil
		}
		if live := usableKey(keys, now); live != nil && !newKey {
			log.Info("database already holds data and a usable key; not seeding, no new key", "key", live.Prefix)
			return func(base string) string {
				return fmt.Sprintf("Demo data and key already in place: key %s… (company %d, user %d), printed when it was made.\n"+
					"Restart with --demo --new-key for a new one.\n\n%s", live.Prefix, live.CompanyID, live.UserID, tryLine(base))
			}, nil
		}
		company, user = keys[0].CompanyID, keys[0].UserID
		log.Info("database already holds data; not seeding")
	case err != nil:
		return nil, err
	default:
		log.Info("seeded demo data", "companies", len(d.Companies), "identities", len(d.Identities))
		company = d.Companies[0].ID
		for _, u := range d.Users {
			if u.CompanyID == company && u.TermsAgreedAt != nil {
				user = u.ID
				break
			}
		}
	}
	secret, _, err := apikey.Issue(ctx, st, apikey.Grant{CompanyID: company, UserID: user, Scopes: []string{apikey.AllReadWrite}}, now)
	if err != nil {
		return nil, fmt.Errorf("create demo key: %w", err)
	}
	return func(base string) string {
		return fmt.Sprintf("Demo API key (company %d, user %d, scope read-write):\n\n  export DRATA_API_TOKEN=%s\n\n%s", company, user, secret, tryLine(base))
	}, nil
}

// usableKey is the newest key of keys that is neither revoked nor expired at now.
func usableKey(keys []store.APIKey, now time.Time) *store.APIKey {
	for i, k := range keys {
		if k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt)) {
			return &keys[i]
		}
	}
	return nil
}

func tryLine(base string) string {
	return fmt.Sprintf("Try:\n\n  curl -s -H \"Authorization: Bearer $DRATA_API_TOKEN\" '%s/user-identities/infrastructure?limit=2'\n\n", base)
}
