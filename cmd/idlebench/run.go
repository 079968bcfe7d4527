package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

func runCmd(args []string) error {
	fs := newFlags("run")
	addr := fs.String("addr", "127.0.0.1:3390", "server address")
	n := fs.Int("n", 10000, "connections")
	transport := fs.String("transport", "tcp", "tcp or ws")
	hb := fs.Duration("heartbeat", 3*time.Second, "heartbeat interval")
	hold := fs.Duration("hold", 30*time.Second, "how long all connections are held before measuring")
	profile := fs.String("heapprofile", "", "write the server's heap profile here at the end")
	inline := fs.Bool("inline", false, "server Config.Inline")
	pollers := fs.Int("pollers", 0, "server Config.Pollers (0 = default)")
	gogc := fs.Int("gogc", 0, "server debug.SetGCPercent (0 = GOGC as it is)")
	memLimit := fs.Int64("memlimit", 0, "server debug.SetMemoryLimit in bytes (0 = none)")
	fs.Parse(args)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	srvArgs := []string{"server", "-addr", *addr, "-heartbeat", hb.String()}
	if *profile != "" {
		srvArgs = append(srvArgs, "-memprofilerate", "1")
	}
	srvArgs = append(srvArgs, "-inline="+strconv.FormatBool(*inline), "-pollers", strconv.Itoa(*pollers),
		"-gogc", strconv.Itoa(*gogc), "-memlimit", strconv.FormatInt(*memLimit, 10))
	srv := exec.Command(self, srvArgs...)
	srv.Stderr = os.Stderr
	srvIn, _ := srv.StdinPipe()
	srvOut, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	lines := bufio.NewScanner(srvOut)
	ask := func(cmd string) (status, error) {
		var st status
		if _, err := io.WriteString(srvIn, cmd+"\n"); err != nil {
			return st, err
		}
		if !lines.Scan() {
			return st, fmt.Errorf("server exited")
		}
		return st, json.Unmarshal(lines.Bytes(), &st)
	}
	if !lines.Scan() { // ready line
		return fmt.Errorf("server did not start")
	}
	time.Sleep(2 * time.Second) // let the fresh process settle
	before, err := ask("stats")
	if err != nil {
		return err
	}

	cli := exec.Command(self, "client", "-addr", *addr, "-n", strconv.Itoa(*n), "-transport", *transport)
	cli.Stderr = os.Stderr
	cli.Stdout = os.Stderr
	if err := cli.Start(); err != nil {
		return err
	}
	defer cli.Process.Kill()
	start := time.Now()
	for {
		st, err := ask("stats")
		if err != nil {
			return err
		}
		if st.Conns >= *n {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("only %d of %d connections after 5 minutes", st.Conns, *n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	connected := time.Since(start)
	held, err := ask("stats")
	if err != nil {
		return err
	}
	time.Sleep(*hold)
	after, err := ask("stats")
	if err != nil {
		return err
	}
	gcd, err := ask("gc")
	if err != nil {
		return err
	}
	if *profile != "" {
		if _, err := ask("heapprofile " + *profile); err != nil {
			return err
		}
	}
	per := float64(after.RSS-before.RSS) / float64(*n)
	printJSON(map[string]any{
		"transport": *transport, "connections": *n, "heartbeat": hb.String(), "hold": hold.String(),
		"inline": *inline, "pollers": *pollers, "gogc": *gogc, "memlimit": *memLimit,
		"connect_time": connected.Round(time.Millisecond).String(),
		"rss_before":   before.RSS, "rss_after": after.RSS, "rss_per_conn": int64(per),
		"heap_inuse_per_conn": int64(float64(after.HeapInuse-before.HeapInuse) / float64(*n)),
		"live_heap_per_conn":  int64(float64(int64(gcd.HeapAlloc)-int64(before.HeapAlloc)) / float64(*n)),
		"before":              before, "after": after,
		"idle_alloc_bytes_per_conn_per_s": float64(after.TotalAlloc-held.TotalAlloc) / float64(*n) / hold.Seconds(),
		"idle_mallocs_per_heartbeat":      float64(after.Mallocs-held.Mallocs) / float64(max(1, after.HBIn-held.HBIn)),
		"idle_gcs":                        after.NumGC - held.NumGC,
		"idle_cpu_us_per_heartbeat":       float64(after.CPU-held.CPU) / 1e3 / float64(max(1, after.HBIn-held.HBIn)),
	})
	fmt.Fprintf(os.Stderr, "%s: %d connections, RSS %d -> %d bytes: %.0f bytes per idle connection (live heap after GC: %d per connection; %d GCs and %.1f us of CPU per heartbeat while idle)\n",
		*transport, *n, before.RSS, after.RSS, per, (int64(gcd.HeapAlloc)-int64(before.HeapAlloc))/int64(*n),
		after.NumGC-held.NumGC, float64(after.CPU-held.CPU)/1e3/float64(max(1, after.HBIn-held.HBIn)))
	return nil
}
