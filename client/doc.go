// Package client is the Go client of the User Identities part of Drata's
// public API: the infrastructure and version control identities found through
// a company's connections, which can be linked to Drata users, flagged for
// privileged access and marked as service accounts.
//
// The client wraps the client generated from api/openapi.yaml (package gen)
// and uses the generated types for all data. It adds authentication,
// client-side rate limiting, retries with capped exponential backoff and full
// jitter, typed errors, lazy iteration over every page and, on request,
// checking of every response against the contract (package client/checking).
//
// # Usage
//
//	c, err := client.New(client.WithToken(os.Getenv("DRATA_API_TOKEN")))
//	if err != nil {
//		return err
//	}
//	for it, err := range c.Infrastructure.All(ctx, &client.InfrastructureListOptions{
//		ClientType: gen.InfrastructureClientTypeAWS,
//	}) {
//		if err != nil {
//			return err // it.Response is the failed request's, when one arrived
//		}
//		// it.Identity is a *gen.InfrastructureIdentity; it.Response is its
//		// page's *client.Response (paging, request ID, rate-limit state).
//		fmt.Println(it.Identity.Id, it.Identity.Username, "of", it.Response.Total)
//	}
//
//	_, _, err = c.Infrastructure.Connect(ctx, 42, 7)
//	switch {
//	case errors.Is(err, client.ErrNotFound):
//		// no such identity or user in this company
//	case err != nil:
//		var apiErr *client.APIError
//		if errors.As(err, &apiErr) {
//			log.Printf("%s (request %s)", apiErr.Message, apiErr.RequestID)
//		}
//	}
//
// # Base URL
//
// The API is served under a base path (https://public-api.drata.com/public by
// default). Operation paths are resolved relative to the base URL, so a server
// mounted at http://127.0.0.1:8080/public is reached with
// WithBaseURL("http://127.0.0.1:8080/public").
//
// # Errors
//
// A response whose status is not 2xx is returned as an *APIError. Sentinels
// such as ErrNotFound and ErrRateLimited match it with errors.Is. A cancelled
// or expired context always wins: the error then wraps ctx.Err(). API tokens
// never appear in error strings or log records.
//
// # Retries
//
// Every operation is idempotent (GET and PUT), so the client retries 429, 502,
// 503 and 504 responses and transient network errors, honouring Retry-After
// (seconds or an HTTP date) up to the policy's MaxDelay. WithRetry sets the
// policy; see RetryPolicy.
//
// # Timestamps
//
// Older renderings of the API send timestamps as "2020-07-06 12:00:00.000000"
// instead of RFC 3339. The client reads both in the date-time fields (the older
// form as UTC; a username or reason that merely looks like one is left alone)
// and always writes RFC 3339. With checking.WithResponseChecking() the older form
// is still reported as a *ResponseViolationError, because the contract says
// date-time: checking tells you what a server sends, decoding tolerates what
// it may send.
package client
