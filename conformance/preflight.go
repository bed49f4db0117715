package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// preflight asks each family's first page once, and stops the run with
// one line of what is wrong when it cannot go on: nothing answers, the key
// is rejected, or nothing under the base URL answers like this API.
func (c *checker) preflight(ctx context.Context) error {
	usable := 0
	for i, f := range c.fams {
		q := url.Values{}
		if f.limit != nil {
			q.Set(f.limit.name, "1")
		}
		ex, err := c.send(ctx, get(f.listPath, q))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("%w: nothing answers at %s: %w", ErrUnreachable, c.base, err)
		}
		total, hasTotal := ex.num("total")
		switch {
		case ex.status == http.StatusOK && hasTotal:
			c.validate(ctx, ex) // only answers of the API are worth checking
			f.ok, f.total = true, int(total)
			usable++
		case ex.status == http.StatusUnauthorized:
			return fmt.Errorf("%w: %s answered %s%s", ErrTokenRejected, ex.req.target(c.base), ex.brief(), quoteMessage(ex))
		case i == 0 && (ex.status == http.StatusNotFound || ex.status == http.StatusMethodNotAllowed || !ex.isJSON()):
			return c.noAPI(ctx, ex)
		case ex.status == http.StatusPaymentRequired || ex.status == http.StatusPreconditionFailed:
			return fmt.Errorf("%w: %s answered %s%s", ErrRefused, ex.req.target(c.base), ex.brief(), quoteMessage(ex))
		case ex.status == http.StatusForbidden:
			c.validate(ctx, ex)
			c.report.Notes = append(c.report.Notes, fmt.Sprintf("the key may not list %s identities (%s answered %s); their checks are skipped", f.name, ex.op, ex.brief()))
		default:
			return fmt.Errorf("%w: %s answered %s%s", ErrRefused, ex.req.target(c.base), ex.brief(), quoteMessage(ex))
		}
	}
	if usable == 0 {
		return fmt.Errorf("%w: the key may list no identities", ErrRefused)
	}
	return nil
}

// quoteMessage is ": message" of an error body, or "".
func quoteMessage(ex *exchange) string {
	if m, _ := ex.object()["message"].(string); m != "" {
		return fmt.Sprintf(" (%s)", m)
	}
	if ct := ex.header.Get("Content-Type"); ct != "" && !ex.isJSON() {
		return fmt.Sprintf(" (%s, not JSON)", ct)
	}
	return ""
}

// noAPI explains a first answer that does not come from this API and,
// when the API answers under a base path of the document's servers,
// suggests it.
func (c *checker) noAPI(ctx context.Context, first *exchange) error {
	u, _ := url.Parse(c.base)
	origin := u.Scheme + "://" + u.Host
	tried := map[string]bool{c.base: true}
	for _, sp := range c.api.serverPaths {
		for _, cand := range []string{c.base + sp, origin + sp} {
			if tried[cand] {
				continue
			}
			tried[cand] = true
			r := get(c.fams[0].listPath, url.Values{})
			hr, err := http.NewRequestWithContext(ctx, http.MethodGet, cand+r.path, nil)
			if err != nil {
				continue
			}
			hr.Header.Set("Authorization", c.authValue(mainAuth))
			c.report.Requests++
			resp, err := c.http.Do(hr)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return err
				}
				continue
			}
			resp.Body.Close()
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != http.StatusNotFound && strings.HasPrefix(ct, "application/json") {
				return fmt.Errorf("%w: %s answered %s%s; the API answers under %s: try --base-url %s", ErrNoAPI, first.req.target(c.base), first.brief(), quoteMessage(first), cand, cand)
			}
		}
	}
	hint := ""
	if len(c.api.serverPaths) > 0 {
		hint = fmt.Sprintf("; is the base path right? The document's servers use %s", strings.Join(c.api.serverPaths, ", "))
	}
	return fmt.Errorf("%w: %s answered %s%s%s", ErrNoAPI, first.req.target(c.base), first.brief(), quoteMessage(first), hint)
}
