package prism_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/exchanges"
)

var prismBin = flag.String("prism", "", "TestPrism: the Prism CLI to run (make replay-prism passes tools/prism's); TestPrism is skipped without it")

// TestPrism replays the corpus through Stoplight Prism's validating proxy
// (prism proxy --errors=false) in front of an upstream that answers each
// recorded request with its recorded response, and reads the violations
// Prism reports in each answer's sl-violations header. No response may
// break the document; request violations are counted apart: every
// deliberately invalid request must have some, and no other request any.
// The planted violations must be reported.
func TestPrism(t *testing.T) {
	if *prismBin == "" {
		t.Skip("needs -prism=PATH; make replay-prism runs it")
	}
	c, err := exchanges.Load(filepath.Join("..", exchanges.File))
	require.NoError(t, err)
	plantedX, err := c.Planted()
	require.NoError(t, err)
	up := &upstream{byName: map[string]exchanges.Exchange{}, served: map[string]string{}}
	for _, x := range slices.Concat(c.Exchanges, plantedX) {
		up.byName[x.Name] = x
	}
	us := httptest.NewServer(up)
	t.Cleanup(us.Close)
	prism := startPrism(t, us.URL+exchanges.BasePath)

	var total tally
	for _, x := range c.Exchanges {
		if skip := unforwardable(x); skip != "" {
			total.skipped = append(total.skipped, x.Name+" ("+skip+")")
			continue
		}
		vs := replay(t, prism, up, x)
		req, resp := vs.split()
		total.response += len(resp)
		assert.Empty(t, resp, "%s: Prism reports response violations: %s", x.Name, vs)
		if x.InvalidRequest {
			total.invalidRequests++
			total.requestInvalid += len(req)
			if len(req) == 0 {
				total.unflagged = append(total.unflagged, x.Name)
			}
			continue
		}
		total.requestValid += len(req)
		assert.Empty(t, req, "%s: Prism reports request violations in a request that conforms: %s", x.Name, vs)
	}
	t.Logf("Prism: %d exchanges replayed, %d skipped: %d response violations; request violations: %d in conforming requests, %d in the %d deliberately invalid ones",
		len(c.Exchanges)-len(total.skipped), len(total.skipped), total.response, total.requestValid, total.requestInvalid, total.invalidRequests)
	for _, s := range total.skipped {
		t.Logf("  skipped: %s", s)
	}
	assert.Empty(t, total.unflagged, "deliberately invalid requests Prism did not report")

	for _, x := range plantedX {
		vs := replay(t, prism, up, x)
		_, resp := vs.split()
		assert.NotEmpty(t, resp, "%s: Prism did not report the planted violation", x.Name)
		t.Logf("%s: %d response violations: %s", x.Name, len(resp), vs)
	}
}

// tally is what the replay counted.
type tally struct {
	response, requestValid, requestInvalid, invalidRequests int
	skipped, unflagged                                      []string
}

// unforwardable says why Prism cannot forward x's request, or "": it
// parses a JSON body before routing and answers a malformed one itself.
func unforwardable(x exchanges.Exchange) string {
	if x.Request.Body == nil {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(x.Request.Header["Content-Type"])
	if mt == "application/json" && !json.Valid([]byte(*x.Request.Body)) {
		return "a malformed JSON body, which Prism refuses before proxying"
	}
	return ""
}

// violation is one entry of Prism's sl-violations header.
type violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Code     any      `json:"code"`
	Message  string   `json:"message"`
}

type violations []violation

// split parts the request violations from the response ones.
func (vs violations) split() (req, resp violations) {
	for _, v := range vs {
		if len(v.Location) > 0 && v.Location[0] == "response" {
			resp = append(resp, v)
		} else {
			req = append(req, v)
		}
	}
	return req, resp
}

func (vs violations) String() string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s %s: %s", v.Severity, strings.Join(v.Location, "."), v.Message)
	}
	return b.String()
}

// client waits for an answer no longer than a slow Prism takes.
var client = &http.Client{Timeout: 30 * time.Second}

// replay sends x's request through Prism and returns the violations it
// reports, after checking that the upstream served x and that its answer
// came back.
func replay(t *testing.T, prism string, up *upstream, x exchanges.Exchange) violations {
	t.Helper()
	req, err := x.HTTPRequest(prism, exchanges.BasePath)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err, x.Name)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Empty(t, up.result(x.Name), "%s: the upstream did not serve it: answered %d %s", x.Name, resp.StatusCode, body)
	require.Equal(t, x.Response.Status, resp.StatusCode, "%s: %s", x.Name, body)
	header := resp.Header.Get("sl-violations")
	if header == "" {
		return nil
	}
	var vs violations
	if rest, truncated := strings.CutPrefix(header, "Too many violations! "); truncated {
		n := strings.Count(rest, `"location":["response"`)
		t.Errorf("%s: Prism truncated its violations (at least %d in the response): %.500s", x.Name, n, rest)
		return violations{{Location: []string{"response"}, Severity: "Error", Message: "truncated"}}
	}
	require.NoError(t, json.Unmarshal([]byte(header), &vs), "%s: sl-violations: %s", x.Name, header)
	for _, v := range vs {
		require.NotEqual(t, "Selected route not found", v.Message, "%s: Prism did not route the request, so it checked nothing", x.Name)
	}
	return vs
}

// upstream answers each request with the recorded response of the exchange
// its X-Request-Id names, after checking that it is that exchange's
// request as Prism forwards it.
type upstream struct {
	byName map[string]exchanges.Exchange
	mu     sync.Mutex
	served map[string]string // name to "" when served, else what was wrong
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("X-Request-Id")
	x, ok := u.byName[name]
	problem := ""
	switch {
	case !ok:
		problem = "no exchange named " + name
	case r.Method != x.Request.Method:
		problem = "method " + r.Method
	default:
		want, _ := url.Parse(x.Request.Path)
		if r.URL.Path != want.Path || !equalQuery(r.URL.Query(), want.Query()) {
			problem = "path " + r.URL.RequestURI()
		}
	}
	u.mu.Lock()
	u.served[name] = problem
	u.mu.Unlock()
	if problem != "" {
		http.Error(w, "upstream: "+problem, http.StatusBadGateway)
		return
	}
	for k, v := range x.Response.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(x.Response.Status)
	_, _ = w.Write(x.Response.WireBody())
}

// result is "" when the upstream served name as recorded.
func (u *upstream) result(name string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.served[name]
	if !ok {
		return "never asked for it"
	}
	return p
}

func equalQuery(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// startPrism starts prism proxy in front of target on a port it chooses
// and returns its URL once it says it listens. It is stopped when the test
// ends; its output is logged when the test fails.
func startPrism(t *testing.T, target string) string {
	t.Helper()
	spec, err := filepath.Abs(filepath.Join("..", "..", "..", "api", "openapi.yaml"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	// Info level, for the line that names the port.
	cmd := exec.CommandContext(ctx, *prismBin, "proxy", spec, target,
		"--errors=false", "--host=127.0.0.1", "--port=0", "--verboseLevel=info")
	out := &syncBuffer{}
	// Every line is kept in out; the watcher reads stdout as well, for the
	// line that names the address.
	lines, watch := io.Pipe()
	cmd.Stdout, cmd.Stderr = io.MultiWriter(out, watch), out
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(lines)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
				break
			}
		}
		io.Copy(io.Discard, lines)
	}()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait() // after every byte of output reached out
		watch.Close()
		exited <- err
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("prism output:\n%s", out.String())
		}
	})

	started := time.Now()
	select {
	case url := <-listening:
		t.Logf("prism %s listening after %s", version(t), time.Since(started).Round(time.Millisecond))
		return url
	case err := <-exited:
		exited <- err
		t.Fatalf("prism exited before it listened: %v\n%s", err, out.String())
	case <-time.After(45 * time.Second): // a hang guard: Prism starts in about a second
		t.Fatalf("prism did not say it listens within 45 s:\n%s", out.String())
	}
	return ""
}

// listeningLine is Prism's line that it accepts connections, and where.
var listeningLine = regexp.MustCompile(`Prism is listening on (http://[0-9.:]+)`)

// version is the Prism CLI's version.
func version(t *testing.T) string {
	out, err := exec.Command(*prismBin, "--version").Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// syncBuffer is a bytes.Buffer safe for the writes of a process's two
// streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
