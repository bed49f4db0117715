package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

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
			c, mux := setup(t, WithValidator(validator(t)), WithMaxRetries(0))
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
			if got != nil {
				t.Errorf("identity = %+v, want nil", got)
			}
			if resp == nil || resp.StatusCode != tc.status || resp.RequestID != "req-123" {
				t.Errorf("response = %+v, want status %d and request id", resp, tc.status)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			want := &APIError{
				Operation: opConnectInfrastructure, StatusCode: tc.status, Code: tc.code,
				Message: "it went wrong", Fields: tc.fields, RequestID: "req-123",
			}
			if tc.status == http.StatusTooManyRequests {
				want.RetryAfter = 7 * time.Second
			}
			if !equalAPIError(apiErr, want) {
				t.Errorf("APIError = %+v, want %+v", apiErr, want)
			}
			for _, s := range allSentinels {
				if is := errors.Is(err, s); is != (s == tc.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, is)
				}
			}
			for _, part := range []string{"connectInfrastructureIdentity", "it went wrong", "req-123"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not mention %q", err, part)
				}
			}
		})
	}
}

func equalAPIError(a, b *APIError) bool {
	return a.Operation == b.Operation && a.StatusCode == b.StatusCode && a.Code == b.Code &&
		a.Message == b.Message && a.RequestID == b.RequestID && a.RetryAfter == b.RetryAfter &&
		slices.Equal(a.Fields, b.Fields)
}

// TestErrorBodyNotJSON: a proxy's HTML page still gives an *APIError with
// the status, and a short message.
func TestErrorBodyNotJSON(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithMaxRetries(0))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>\n<body>Bad   gateway</body></html>" + strings.Repeat("x", 1000)))
	})
	_, _, err := c.VersionControl.List(context.Background(), nil)
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if apiErr.StatusCode != http.StatusBadGateway || apiErr.Code != "" {
		t.Errorf("APIError = %+v", apiErr)
	}
	if !strings.HasPrefix(apiErr.Message, "<html> <body>Bad gateway</body></html>xxx") || len(apiErr.Message) > 210 {
		t.Errorf("Message = %q, want the start of the body on one line", apiErr.Message)
	}
}

// TestErrorBodyCapped: the client reads at most 64 KiB of an error body.
func TestErrorBodyCapped(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	written := make(chan int, 1)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		chunk := bytes.Repeat([]byte("y"), 32<<10)
		n := 0
		for range 64 { // 2 MiB, far more than the cap
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		written <- n
	})
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	if !errors.As(err, new(*APIError)) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	if n, _ := readAll(resp); n != maxErrorBody {
		t.Errorf("kept %d bytes of the error body, want %d", n, maxErrorBody)
	}
	if n := <-written; n == 64*(32<<10) {
		t.Logf("server managed to write all %d bytes (buffered by the kernel)", n)
	}
}

func readAll(resp *Response) (int, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(resp.Body)
	return int(n), err
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
		for _, checking := range []bool{false, true} {
			if name == "violation" && !checking {
				continue // only checking turns it into an error
			}
			t.Run(fmt.Sprintf("%s/checking=%v", name, checking), func(t *testing.T) {
				t.Parallel()
				testTokenHidden(t, handler, checking)
			})
		}
	}
}

func testTokenHidden(t *testing.T, handler http.HandlerFunc, checking bool) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := []Option{WithLogger(logger)}
	if checking {
		opts = append(opts, WithValidator(validator(t)))
	}
	c, mux := setup(t, opts...)
	mux.HandleFunc("/", handler)
	_, _, err := c.Infrastructure.List(context.Background(), nil)
	if err == nil {
		t.Fatal("want an error")
	}
	texts := []string{err.Error(), logs.String()}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		texts = append(texts, apiErr.Error(), apiErr.Message)
		for _, f := range apiErr.Fields {
			texts = append(texts, f.Field, f.Message)
		}
	}
	for _, s := range texts {
		if strings.Contains(s, testToken) {
			t.Errorf("token leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "operation=listInfrastructureIdentities") {
		t.Errorf("log lacks the operation:\n%s", logs.String())
	}
}

// TestTokenNotInOptionErrors: a rejected token is not echoed either.
func TestTokenNotInOptionErrors(t *testing.T) {
	t.Parallel()
	bad := testToken + "\n"
	_, err := New(WithToken(bad))
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("err = %v, want an error without the token", err)
	}
}
