package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangGuard bounds every wait on a server the tests start, so that a bug
// makes a test fail instead of hang. It is not a speed goal.
const hangGuard = 20 * time.Second

// procOutput collects what a process writes and lets a test wait for a
// text, until the process has exited (done closed).
type procOutput struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
	done    <-chan struct{}
}

func newProcOutput(done <-chan struct{}) *procOutput {
	return &procOutput{changed: make(chan struct{}), done: done}
}

func (o *procOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.changed)
	o.changed = make(chan struct{})
	return o.buf.Write(p)
}

func (o *procOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output contains text, and fails the test when
// the process exits without writing it.
func (o *procOutput) waitFor(t *testing.T, text string) string {
	t.Helper()
	deadline := time.After(hangGuard)
	done := o.done
	for {
		o.mu.Lock()
		s, changed := o.buf.String(), o.changed
		o.mu.Unlock()
		if strings.Contains(s, text) {
			return s
		}
		if done == nil { // exited: everything it wrote has been seen
			t.Fatalf("the process exited without writing %q:\n%s", text, s)
		}
		select {
		case <-changed:
		case <-done:
			done = nil // one more look at the output
		case <-deadline:
			t.Fatalf("no %q in the output:\n%s", text, s)
		}
	}
}

// inProcess is a command running in this process, such as serve or proxy.
type inProcess struct {
	stdout, stderr *procOutput
	cancel         context.CancelFunc
	exited         chan struct{}
	code           int // once exited is closed
}

// runInProcess starts the command args in this process; cancelling it is
// what SIGTERM does to the program.
func runInProcess(t *testing.T, args ...string) *inProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	p := &inProcess{cancel: cancel, exited: make(chan struct{})}
	p.stdout, p.stderr = newProcOutput(p.exited), newProcOutput(p.exited)
	go func() {
		defer close(p.exited)
		p.code = run(ctx, args, p.stdout, p.stderr)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// listening waits for the log line msg, which reports in attribute attr
// the address the command listens on, and returns the address.
func (p *inProcess) listening(t *testing.T, msg, attr string) string {
	t.Helper()
	m := regexp.MustCompile(`msg=` + msg + ` ` + attr + `=(\S+)`).FindStringSubmatch(p.stderr.waitFor(t, "msg="+msg+" "))
	require.NotNil(t, m, "no address in the log:\n%s", p.stderr)
	return m[1]
}

// stop cancels the command and requires a clean exit.
func (p *inProcess) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	<-p.exited
	assert.Equal(t, exitOK, p.code, "exit code\n%s", p.stderr)
}

// serveInProcess runs `identities serve` with args on a port the system
// picks, and returns it with the API's base URL once it listens.
func serveInProcess(t *testing.T, args ...string) (*inProcess, string) {
	t.Helper()
	p := runInProcess(t, append([]string{"serve", "--addr", "127.0.0.1:0", "--rate-limit", "0"}, args...)...)
	return p, "http://" + p.listening(t, "serving", "addr") + "/public"
}
