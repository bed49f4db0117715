package docsui_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

// browsers are the programs the browser tests drive, the first found on
// PATH: the headless shell, made for automated use (it starts in half the
// time and runs the page in half the CPU), then the full browser.
var browsers = []string{"chromium-headless-shell", "chromium"}

// browser is the headless browser the package's tests share, started by the
// first test that needs one and stopped by TestMain. Each test works in a
// browser context of its own, with its own storage and cache. The browser
// tests do not run in parallel with each other: each page load takes a
// core for about a second, and two at once take twice as long each.
var browser struct {
	once sync.Once
	ctx  context.Context // its first tab, which tests open theirs from
	stop func()
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	os.Exit(code)
}

// browserPath is the path of the first of browsers on PATH; the tests skip
// without one unless IDENTITIES_REQUIRE_CHROMIUM=1, as in CI.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range browsers {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const install = "apt-get install -y chromium-headless-shell"
	if os.Getenv("IDENTITIES_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("none of %v is installed (%s) and IDENTITIES_REQUIRE_CHROMIUM=1", browsers, install)
	}
	t.Skipf("skipping the /docs browser test: none of %v is installed (%s)", browsers, install)
	return ""
}

// newTab opens a tab of the shared browser, in a browser context of its
// own, that records the page's Content-Security-Policy violations in
// window.cspViolations from its first script on. It closes with the test.
func newTab(t *testing.T) context.Context {
	t.Helper()
	path := browserPath(t)
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "docsui-browser-")
		if err != nil {
			browser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 1000),
		)
		actx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, stopBrowser := chromedp.NewContext(actx)
		browser.ctx = ctx
		browser.stop = func() {
			stopBrowser()
			stopAlloc()
			os.RemoveAll(dir)
		}
		browser.err = chromedp.Do(ctx) // starts it
	})
	require.NoError(t, browser.err, "starting %s", path)

	tab, closeTab := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(closeTab)
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	t.Cleanup(cancel)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
	})
	require.NoError(t, err)
	return ctx
}

// openDocs serves the docs, opens them in a new tab and waits until the
// page lists the operations.
func openDocs(t *testing.T) (ctx context.Context, url string, env *testserver.Env) {
	t.Helper()
	ctx = newTab(t)
	url, env = docsServer(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(".opblock .opblock-summary-operation-id")),
	))
	return ctx, url, env
}

// assertOwnOriginOnly asserts that the page's policy refused nothing, and
// that the page requested nothing from another origin than url's.
func assertOwnOriginOnly(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.cspViolations`))
	require.NoError(t, err)
	assert.Empty(t, violations, "Content-Security-Policy violations")
	resources, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.name)`))
	require.NoError(t, err)
	assert.NotEmpty(t, resources)
	for _, r := range resources {
		assert.True(t, strings.HasPrefix(r, url+"/"), "a request to another origin: %s", r)
	}
}

// artifacts is where the test leaves a screenshot of the page:
// $IDENTITIES_ARTIFACTS, as in CI; without it, the test takes none.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IDENTITIES_ARTIFACTS")
	if dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	return dir
}

// operation is one operation of the document, as the page should list it.
type operation struct{ ID, Summary string }

func documentOperations(t *testing.T) []operation {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	require.NoError(t, err)
	var ops []operation
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, operation{op.OperationID, op.Summary})
		}
	}
	return ops
}

// TestDocsListEveryOperation loads /docs in a headless browser and finds
// every operation of the document on it, with its summary.
func TestDocsListEveryOperation(t *testing.T) {
	want := documentOperations(t)
	require.Len(t, want, 8)
	ctx, url, _ := openDocs(t)

	var got []operation
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]string](`Array.from(document.querySelectorAll(".opblock")).map(op => [
		op.querySelector(".opblock-summary-operation-id").textContent.trim(),
		op.querySelector(".opblock-summary-description").textContent.trim()])`))
	require.NoError(t, err)
	for _, s := range shown {
		got = append(got, operation{s[0], s[1]})
	}
	assert.ElementsMatch(t, want, got)
	assertOwnOriginOnly(t, ctx, url)
}

// TestDocsTryItOut authorizes with a key on /docs, in a headless browser,
// and runs one request through the page against the local server.
func TestDocsTryItOut(t *testing.T) {
	out := artifacts(t)
	ctx, url, env := openDocs(t)

	// Authorize with a key.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".auth-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS(".modal-ux .auth-container input")),
		typeInto(".modal-ux .auth-container input", env.Keys.ReadWrite),
		chromedp.Click(chromedp.CSS(".modal-ux .auth-btn-wrapper button.authorize")),
		chromedp.Click(chromedp.CSS(".modal-ux button.btn-done")),
		chromedp.WaitNotPresent(chromedp.CSS(".modal-ux")),
	))

	// Try it out: the infrastructure list, executed.
	const list = "listInfrastructureIdentities"
	require.Contains(t, documentOperations(t), operation{list, "List infrastructure identities"})
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".opblock")).find(op =>
		op.querySelector(".opblock-summary-operation-id").textContent.trim() === `+jsString(list)+`).id`))
	require.NoError(t, err)
	op := "#" + id
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(op+" .opblock-summary-control")),
		chromedp.Click(chromedp.CSS(op+" .try-out__btn")),
		chromedp.WaitVisible(chromedp.CSS(op+" button.execute")),
	))
	// Try it out fills in the parameters' examples and defaults: no filter,
	// and a short page, lists a few identities.
	for field, value := range map[string]string{"q": "", "connectionId": "", "limit": "3"} {
		require.NoError(t, chromedp.Do(ctx, typeInto(op+` tr[data-param-name="`+field+`"] input`, value)))
	}
	live := op + " .live-responses-table tbody tr.response"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(op+" button.execute")),
		chromedp.WaitVisible(chromedp.CSS(live+" .response-col_status")),
	))
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(live+" .response-col_status")))
	require.NoError(t, err)
	requestURL, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(op+" .request-url pre")))
	require.NoError(t, err)
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(live+" .response-col_description .microlight")))
	require.NoError(t, err)

	if out != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, "docs.png"), shot, 0o644))
	}

	assert.Equal(t, "200", strings.TrimSpace(status), "response: %s", body)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(requestURL), url+"/public/"), "the request went to %s", requestURL)
	assert.Contains(t, requestURL, "limit=3")
	var page struct {
		Data  []json.RawMessage
		Total int
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page), body)
	assert.Len(t, page.Data, 3)
	assert.Equal(t, len(env.Identities(env.CompanyA, store.Infrastructure)), page.Total, "the key's company's identities, unfiltered")
	assertOwnOriginOnly(t, ctx, url)
}

// typeInto replaces the text of the input sel selects with text, entered
// in one insertion, as a paste or an input method enters it: the page's
// handlers see it as typed, without a round trip to the browser per key.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(sel)+`).select()`),
		chromedp.SendKeys(chromedp.CSS(sel), kb.Backspace),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if text == "" {
				return nil
			}
			_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: text})
			return err
		}),
	)
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
