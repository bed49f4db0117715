package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/gen"
)

var allSentinels = []error{ErrValidation, ErrUnauthorized, ErrPaymentRequired, ErrForbidden, ErrNotFound, ErrTermsNotAccepted, ErrRateLimited}

// TestErrorStatuses maps each documented error status to its sentinel and to
// the fields of *APIError. Response checking is on, so the error bodies are
// also shown to conform.
func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	fields := []gen.FieldError{{Field: "/userId", Location: gen.FieldErrorLocationBody, Message: "must be at least 1"}}
	for _, tc := range []struct {
		status   int
		code     gen.ErrorCode
		sentinel error
		fields   []gen.FieldError
	}{
		{http.StatusBadRequest, gen.ErrorCodeVALIDATIONFAILED, ErrValidation, fields},
		{http.StatusUnauthorized, gen.ErrorCodeUNAUTHORIZED, ErrUnauthorized, nil},
		{http.StatusPaymentRequired, gen.ErrorCodePAYMENTREQUIRED, ErrPaymentRequired, nil},
		{http.StatusForbidden, gen.ErrorCodeFORBIDDEN, ErrForbidden, nil},
		{http.StatusNotFound, gen.ErrorCodeNOTFOUND, ErrNotFound, nil},
		{http.StatusPreconditionFailed, gen.ErrorCodeTERMSNOTACCEPTED, ErrTermsNotAccepted, nil},
		{http.StatusTooManyRequests, gen.ErrorCodeRATELIMITED, ErrRateLimited, nil},
		{http.StatusInternalServerError, gen.ErrorCodeINTERNALERROR, nil, nil},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, checking(true), WithRetry(RetryPolicy{}))
			mux.HandleFunc("PUT /user-identities/infrastructure/{id}/connect", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-Id", "req-123")
				if tc.status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", "Bearer")
				}
				if tc.status == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", "7")
				}
				body := gen.Error{StatusCode: tc.status, Code: tc.code, Message: "it went wrong", RequestId: "req-123"}
				if tc.fields != nil {
					body.Errors = &tc.fields
				}
				writeJSON(t, w, tc.status, body)
			})
			got, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
			assert.Nil(t, got, "identity")
			require.NotNil(t, resp)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "req-123", resp.RequestID)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			want := &APIError{
				Operation: opConnectInfrastructure, StatusCode: tc.status, Code: tc.code,
				Message: "it went wrong", Fields: tc.fields, RequestID: "req-123",
			}
			if tc.status == http.StatusTooManyRequests {
				want.RetryAfter = 7 * time.Second
			}
			assert.Equal(t, want, apiErr)
			for _, s := range allSentinels {
				assert.Equal(t, s == tc.sentinel, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			for _, part := range []string{"connectInfrastructureIdentity", "it went wrong", "req-123"} {
				assert.ErrorContains(t, err, part)
			}
		})
	}
}

// TestErrorBodyNotJSON: a proxy's HTML page still gives an *APIError with
// the status, and a short message.
func TestErrorBodyNotJSON(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\n<body>Bad   gateway</body></html>" + strings.Repeat("x", 1000)))
	})
	_, _, err := c.VersionControl.List(context.Background(), nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusBadGateway, apiErr.StatusCode)
	assert.Empty(t, apiErr.Code)
	assert.True(t, strings.HasPrefix(apiErr.Message, "<html> <body>Bad gateway</body></html>xxx"), "Message %q: the start of the body on one line", apiErr.Message)
	assert.LessOrEqual(t, len(apiErr.Message), 210)
}

// bigBody is a response body of size bytes, counting what is read of it.
type bigBody struct {
	size, read int
	closed     bool
}

func (b *bigBody) Read(p []byte) (int, error) {
	n := min(len(p), b.size-b.read)
	if n == 0 {
		return 0, io.EOF
	}
	for i := range n {
		p[i] = 'y'
	}
	b.read += n
	return n, nil
}

func (b *bigBody) Close() error {
	b.closed = true
	return nil
}

// TestErrorBodyCapped: the client reads at most 64 KiB of an error body, so
// a server that sends a huge one cannot fill its memory: of a 4 MiB body the
// call reads no more than the cap (and one byte to see that there is more),
// returns an *APIError, and the Response keeps the first 64 KiB.
func TestErrorBodyCapped(t *testing.T) {
	t.Parallel()
	body := &bigBody{size: 4 << 20}
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{"Content-Type": {"text/plain"}}, Body: body, Request: r}, nil
	})}
	c := testClient(t, "http://api.test", WithHTTPClient(hc))
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
	assert.True(t, strings.HasPrefix(apiErr.Message, "yyyy"), "Message %q: the start of the body", apiErr.Message)
	assert.LessOrEqual(t, body.read, maxErrorBody+1, "bytes read of the body")
	assert.True(t, body.closed, "body closed")
	kept, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Len(t, kept, maxErrorBody, "bytes kept in Response.Body")
}

// TestTokenNeverInErrorsOrLogs has servers echo the Authorization header in
// every place an error text comes from, and checks that no error string and
// no log record holds the token.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	echo := func(r *http.Request) string { return "you sent " + r.Header.Get("Authorization") }
	for name, handler := range map[string]http.HandlerFunc{
		"error body": func(w http.ResponseWriter, r *http.Request) {
			fields := []gen.FieldError{{Field: echo(r), Location: gen.FieldErrorLocationHeader, Message: echo(r)}}
			writeJSON(t, w, http.StatusUnauthorized, gen.Error{StatusCode: 401, Code: gen.ErrorCodeUNAUTHORIZED, Message: echo(r), RequestId: "r", Errors: &fields})
		},
		"plain body": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(echo(r)))
		},
		"violation": func(w http.ResponseWriter, r *http.Request) {
			p := infraPage(infraIdentity(1))
			p.Data[0].Connection.Id = echo(r) // breaks the pattern ^[0-9]+$
			writeJSON(t, w, http.StatusOK, p)
		},
		"undocumented error": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, http.StatusTeapot, []byte(`{"message":"`+echo(r)+`"}`))
		},
		"bad JSON": func(w http.ResponseWriter, r *http.Request) {
			writeRaw(w, http.StatusOK, []byte(`{"data":[`+echo(r)))
		},
		"retried then failed": func(w http.ResponseWriter, r *http.Request) {
			writeJSON(t, w, http.StatusServiceUnavailable, gen.Error{StatusCode: 503, Code: gen.ErrorCodeSERVICEUNAVAILABLE, Message: echo(r), RequestId: "r"})
		},
	} {
		for _, check := range []bool{false, true} {
			if name == "violation" && !check {
				continue // only checking turns it into an error
			}
			t.Run(fmt.Sprintf("%s/checking=%v", name, check), func(t *testing.T) {
				t.Parallel()
				testTokenHidden(t, handler, check)
			})
		}
	}
}

func testTokenHidden(t *testing.T, handler http.HandlerFunc, check bool) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, WithLogger(logger), checking(check))
	mux.HandleFunc("/", handler)
	_, _, err := c.Infrastructure.List(context.Background(), nil)
	require.Error(t, err)
	texts := []string{err.Error(), logs.String()}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		texts = append(texts, apiErr.Error(), apiErr.Message)
		for _, f := range apiErr.Fields {
			texts = append(texts, f.Field, f.Message)
		}
	}
	for _, s := range texts {
		assert.NotContains(t, s, testToken, "token leaked")
	}
	assert.Contains(t, logs.String(), "operation=listInfrastructureIdentities", "log lacks the operation")
}

// TestTokenNotInOptionErrors: a rejected token is not echoed either.
func TestTokenNotInOptionErrors(t *testing.T) {
	t.Parallel()
	_, err := New(WithToken(testToken + "\n"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
}
