package docsui_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	"github.com/identities-go/identities/store"
)

// chromium is the browser's path; the test skips without one unless
// IDENTITIES_REQUIRE_CHROMIUM=1, as in CI.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("IDENTITIES_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("chromium is not installed (apt-get install -y chromium) and IDENTITIES_REQUIRE_CHROMIUM=1")
	}
	t.Skip("skipping the /docs browser test: chromium is not installed (apt-get install -y chromium)")
	return ""
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

// TestDocsInBrowser loads /docs in headless Chromium, finds every operation
// of the document on it, authorizes with a key and runs one request through
// the page against the local server.
func TestDocsInBrowser(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	out := artifacts(t)
	url, env := docsServer(t)
	want := documentOperations(t)
	start := time.Now()
	phase := func(name string) { t.Logf("%-28s at %v", name, time.Since(start).Round(time.Millisecond)) }

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()

	// Record every Content-Security-Policy violation, from the first script on.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.cspViolations.push(e.violatedDirective + " " + e.blockedURI));`,
	})
	require.NoError(t, err)
	phase("browser started")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(url+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(".opblock .opblock-summary-operation-id")),
	))
	phase("page loaded")

	// Every operation of the document is on the page, with its summary.
	var got []operation
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]string](`Array.from(document.querySelectorAll(".opblock")).map(op => [
		op.querySelector(".opblock-summary-operation-id").textContent.trim(),
		op.querySelector(".opblock-summary-description").textContent.trim()])`))
	require.NoError(t, err)
	for _, s := range shown {
		got = append(got, operation{s[0], s[1]})
	}
	require.Len(t, want, 8)
	assert.ElementsMatch(t, want, got)

	// Authorize with a key.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".auth-wrapper button.authorize")),
		chromedp.WaitVisible(chromedp.CSS(".modal-ux .auth-container input")),
		typeInto(".modal-ux .auth-container input", env.Keys.ReadWrite),
		chromedp.Click(chromedp.CSS(".modal-ux .auth-btn-wrapper button.authorize")),
		chromedp.Click(chromedp.CSS(".modal-ux button.btn-done")),
		chromedp.WaitNotPresent(chromedp.CSS(".modal-ux")),
	))

	phase("authorized")

	// Try it out: the infrastructure list, executed.
	const list = "listInfrastructureIdentities"
	require.Contains(t, want, operation{list, "List infrastructure identities"})
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

	phase("executed")

	if out != "" {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, "docs.png"), shot, 0o644))
		phase("screenshot " + filepath.Join(out, "docs.png"))
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

	// Nothing was refused by the policy, and nothing came from another host.
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
