package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// Environment of the browser test.
const (
	envBrowser    = "SHADDOCK_BROWSER"    // "1" runs the test; failures then fail, never skip
	envChromium   = "SHADDOCK_CHROMIUM"   // browser binary; default: chromium from PATH or /usr/bin
	envScreenshot = "SHADDOCK_SCREENSHOT" // where to write the PNG; default: the test's temp dir
)

// dashState is what the page reports about itself in #status's data attributes, plus the
// points drawn on every canvas.
type dashState struct {
	State      string `json:"state"`
	Error      string `json:"error"`
	FetchError string `json:"fetchError"`
	Failures   string `json:"failures"`
	Samples    string `json:"samples"`
	Drawn      string `json:"drawn"`
	Conns      string `json:"conns"`
	Sessions   string `json:"sessions"`
	Req        string `json:"req"`
	PkgIn      string `json:"pkgIn"`
	Pushes     string `json:"pushes"`
	RPCCalls   string `json:"rpcCalls"`
	Heap       string `json:"heap"`
	Goroutines string `json:"goroutines"`
	Routes     string `json:"routes"`
	TopRoute   string `json:"topRoute"`
	TopP50     string `json:"topP50"`
	TopP99     string `json:"topP99"`
	Changed    string `json:"changed"`
	Charts     []struct {
		ID     string `json:"id"`
		Points int    `json:"points"`
		Absent bool   `json:"absent"`
	} `json:"charts"`
	KPIs       map[string]string `json:"kpis"`
	RouteRows  [][]string        `json:"routeRows"`
	RemoteRows [][]string        `json:"remoteRows"`
}

const dashStateJS = `JSON.stringify(Object.assign({}, document.getElementById("status").dataset, {
  charts: [...document.querySelectorAll("canvas")].map((c) => ({id: c.id, points: +c.dataset.points, absent: c.dataset.absent === "1"})),
  kpis: Object.fromEntries([...document.querySelectorAll(".kpi")].map((k) => [k.id, k.querySelector(".v").textContent])),
  routeRows: [...document.querySelectorAll("#routes tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
  remoteRows: [...document.querySelectorAll("#rpc tbody tr")].map((tr) => [...tr.cells].map((td) => td.textContent)),
}))`

// chromiumPath finds the browser.
func chromiumPath() (string, error) {
	if p := os.Getenv(envChromium); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// TestDashboardInBrowser loads the dashboard in headless Chromium while real clients drive a real
// server, waits for the page to draw several seconds of samples, and checks that every chart
// has points, that the numbers on the page move and match the server, and that the page raised
// no error; then it takes a screenshot. It runs only with SHADDOCK_BROWSER=1
// (scripts/dashboard-check/run.sh installs Chromium and sets it).
func TestDashboardInBrowser(t *testing.T) {
	if os.Getenv(envBrowser) != "1" {
		t.Skip("set " + envBrowser + "=1 to run the dashboard in headless Chromium (scripts/dashboard-check/run.sh)")
	}
	chrome, err := chromiumPath()
	if err != nil {
		t.Fatalf("%s=1 but no Chromium found (set %s): %v", envBrowser, envChromium, err)
	}

	r := newRig(t)
	players := []*player{r.connect(t, pomeloclient.TCP), r.connect(t, pomeloclient.TCP),
		r.connect(t, pomeloclient.TCP), r.connect(t, pomeloclient.WS), r.connect(t, pomeloclient.WS)}
	stop := make(chan struct{})
	wait := r.traffic(t, players, 4*time.Millisecond, stop)
	churnDone := make(chan struct{})
	go func() { // some churn: silent clients timing out, refused handshakes
		defer close(churnDone)
		tick := time.NewTicker(1500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := errors.Join(r.ghost(t), r.refused()); err != nil {
					t.Errorf("churn: %v", err)
					return
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-churnDone
		if err := wait(); err != nil {
			t.Errorf("traffic: %v", err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b := startBrowser(t, chrome, t.TempDir())
	session, err := b.openPage(ctx)
	if err != nil {
		t.Fatalf("attach to a page: %v\nchromium stderr:\n%s", err, b.stderrText())
	}
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		requireNoError(t, b.call(ctx, session, m, nil, nil), m)
	}
	requireNoError(t, b.call(ctx, session, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil), "viewport")
	requireNoError(t, b.call(ctx, session, "Page.navigate", map[string]any{"url": r.base}, nil), "navigate")
	navigated := time.Now()

	// Wait for sixteen samples (about sixteen seconds of real time: most of the page's shortest
	// time axis, so that the screenshot shows curves).
	var st dashState
	const wantSamples = 16
	for {
		var raw string
		err := b.eval(ctx, session, dashStateJS, &raw)
		if err == nil {
			err = json.Unmarshal([]byte(raw), &st)
		}
		if err == nil && atoi(st.Samples) >= wantSamples {
			break
		}
		if ctx.Err() != nil || (st.State == "error" && time.Since(navigated) > 10*time.Second) {
			t.Fatalf("page did not reach %d samples: state %+v, last error %v, events %v\nchromium stderr:\n%s",
				wantSamples, st, err, b.eventList(), b.stderrText())
		}
		time.Sleep(250 * time.Millisecond)
	}
	_, body := r.get(t, "stats.json")
	var server Snapshot
	requireNoError(t, json.Unmarshal(body, &server), "stats.json")
	t.Logf("page state: %+v", st)

	// The page saw live data and drew it.
	requireEqual(t, st.State, "live", "page state")
	requireEqual(t, st.Error, "", "page error")
	if st.Failures != "0" {
		t.Errorf("%s polls failed, last: %s", st.Failures, st.FetchError)
	}
	if atoi(st.Drawn) < wantSamples-2 {
		t.Errorf("fewest points drawn on a chart: %s, want >= %d", st.Drawn, wantSamples-2)
	}
	if len(st.Charts) < 12 {
		t.Errorf("%d charts on the page", len(st.Charts))
	}
	for _, c := range st.Charts {
		if c.Absent {
			if c.ID != "chart-queue" {
				t.Errorf("chart %s has no data", c.ID)
			}
			continue
		}
		if c.Points < wantSamples-2 {
			t.Errorf("chart %s drew %d points", c.ID, c.Points)
		}
	}
	changed := strings.Split(st.Changed, ",")
	for _, k := range []string{"req", "req_err", "pkg_in", "pkg_out", "bytes_in", "bytes_out", "pushes", "deliveries",
		"rpc_calls", "hs_ok", "hs_fail", "accepted", "hb_timeouts", "cpu"} {
		if !slices.Contains(changed, k) {
			t.Errorf("%s did not change on the page (changed: %s)", k, st.Changed)
		}
	}
	// The page's latest numbers are the server's, a moment ago.
	if v := atof(st.Req); v <= 0 || v > server.Counts["req"] {
		t.Errorf("page requests %v, server %v", v, server.Counts["req"])
	}
	if v := atof(st.Conns); v < float64(len(players)) || v > server.Counts["accepted"] {
		t.Errorf("page connections %v with %d players", v, len(players))
	}
	if atof(st.Heap) <= 0 || atof(st.Goroutines) <= 0 {
		t.Errorf("page heap %s goroutines %s", st.Heap, st.Goroutines)
	}
	if atoi(st.Routes) < 5 || st.TopRoute == "" || atof(st.TopP50) <= 0 || atof(st.TopP99) < atof(st.TopP50) {
		t.Errorf("route table: %s routes, top %q p50 %s p99 %s", st.Routes, st.TopRoute, st.TopP50, st.TopP99)
	}
	if len(st.RouteRows) < 5 || len(st.RemoteRows) != 1 || st.RemoteRows[0][0] != rpcRemote {
		t.Errorf("tables: routes %v, remotes %v", st.RouteRows, st.RemoteRows)
	}
	for id, v := range st.KPIs {
		if v == "" || v == "–" {
			t.Errorf("KPI %s shows %q", id, v)
		}
	}

	// No exception, console error or blocked resource (a CSP violation is logged as an error).
	for _, ev := range b.eventList() {
		switch ev.Method {
		case "Runtime.exceptionThrown":
			t.Errorf("page exception: %s", ev.Params)
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string `json:"type"`
			}
			json.Unmarshal(ev.Params, &p)
			if p.Type == "error" || p.Type == "warning" {
				t.Errorf("console %s: %s", p.Type, ev.Params)
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct {
					Level, Source, Text, URL string
				} `json:"entry"`
			}
			json.Unmarshal(ev.Params, &p)
			if p.Entry.Level == "error" {
				t.Errorf("browser log error (%s): %s %s", p.Entry.Source, p.Entry.Text, p.Entry.URL)
			}
		}
	}

	// Screenshot.
	var shot struct {
		Data string `json:"data"`
	}
	requireNoError(t, b.call(ctx, session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot), "screenshot")
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	requireNoError(t, err, "decode screenshot")
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	out := os.Getenv(envScreenshot)
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	requireNoError(t, os.WriteFile(out, png, 0o644), "write screenshot")
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func atof(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
