package e2e

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAdminMetricsOfTheDemo runs the demo (embedded: connector and chat server in one process)
// with -admin and checks that /metrics counts and times the RPC calls that chat traffic makes,
// on both sides, and exports the connections' outbound queue depth.
func TestAdminMetricsOfTheDemo(t *testing.T) {
	ports, err := FreePorts(1)
	requireNoError(t, err)
	admin := "127.0.0.1:" + strconv.Itoa(ports[0])
	c := startProgram(t, demoBin, Layout{Connectors: 1, Chats: 1}, "-mode", "embedded", "-admin", admin)

	client := http.Client{Timeout: 2 * time.Second}
	scrape := func() map[string]float64 {
		resp, err := client.Get("http://" + admin + "/metrics")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		return samples(t, resp.Body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for scrape() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the admin endpoint did not come up")
		}
		time.Sleep(100 * time.Millisecond)
	}

	cl := dial(t, c.ClientAddrs()[0], loadProtos(t, c.Dir), 10*time.Second)
	enter(t, cl, "ann", "r1") // the connector calls chatRemote.add on the chat server
	const sends = 3
	for i := range sends { // forwarded to the chat server: msgRemote.forwardMessage
		send(t, cl, "r1", name("m", i), "ann", "*")
	}

	// Sessions are sampled at most once a second: wait for a sample that has this one.
	var m map[string]float64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		m = scrape()
		if _, ok := m["shaddock_outbound_queue_packages"]; ok || time.Now().After(deadline) {
			break
		}
	}
	calls := m[`shaddock_rpc_calls_total{remote="chat-server-1",result="ok"}`]
	timed := m[`shaddock_rpc_call_duration_seconds_count{remote="chat-server-1"}`]
	if calls < 1+sends || timed != calls {
		t.Errorf("rpc calls to chat-server-1: %v ok, %v timed; want at least %d, all timed", calls, timed, 1+sends)
	}
	if s := m[`shaddock_rpc_call_duration_seconds_sum{remote="chat-server-1"}`]; s <= 0 {
		t.Errorf("rpc call duration sum %v", s)
	}
	var served float64
	for k, v := range m {
		if strings.HasPrefix(k, "shaddock_rpc_served_calls_total{") && strings.Contains(k, `result="ok"`) {
			served += v
		}
	}
	if served < calls {
		t.Errorf("served rpc calls %v, want at least the %v made (both servers are in this process)", served, calls)
	}
	for _, name := range []string{"shaddock_outbound_queue_bytes", "shaddock_outbound_queue_packages"} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
}

// samples reads a Prometheus text exposition into sample (name{labels} as written) → value.
func samples(t testing.TB, r io.Reader) map[string]float64 {
	t.Helper()
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad exposition line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad exposition line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	requireNoError(t, sc.Err())
	return m
}
