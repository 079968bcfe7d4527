// Command idlebench measures the server's resident memory per idle connection: a hybrid.Server
// in one process, N pomelo clients (handshake, ACK, heartbeats) in another.
//
//	idlebench run -n 10000 -transport tcp -heartbeat 3s -hold 30s
//	idlebench run -n 10000 -transport ws -gogc 50          (also -memlimit, -inline, -pollers)
//
// starts both processes (this binary with the server and client subcommands), reads the server's
// RSS before the clients connect and again after all N connections have been open with heartbeats
// flowing for -hold, and prints (after - before) / N. The subcommands can also be run by hand:
//
//	idlebench server -addr 127.0.0.1:3390 -heartbeat 3s      (prints a JSON status line per "stats" on stdin)
//	idlebench client -addr 127.0.0.1:3390 -n 10000 -transport ws
//
// The client uses one goroutine per connection (it is not what is measured) and spreads its
// connections over several loopback source addresses. Open files are capped at 20,000 per
// process, so one run opens at most about 19,000 connections.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "server":
		err = serverCmd(os.Args[2:])
	case "client":
		err = clientCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idlebench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: idlebench run|server|client [flags]  (-h for flags)")
	os.Exit(2)
}

// status is what the server prints for each "stats" line on its stdin.
type status struct {
	Conns      int    `json:"conns"`
	Working    int64  `json:"classified"`
	RSS        int64  `json:"rss"`         // bytes, from /proc/self/status VmRSS
	HeapAlloc  uint64 `json:"heap_alloc"`  // runtime.MemStats
	HeapInuse  uint64 `json:"heap_inuse"`  //
	HeapSys    uint64 `json:"heap_sys"`    //
	StackInuse uint64 `json:"stack_inuse"` //
	Goroutines int    `json:"goroutines"`
	TotalAlloc uint64 `json:"total_alloc"` // runtime.MemStats: cumulative bytes allocated
	Mallocs    uint64 `json:"mallocs"`
	NumGC      uint32 `json:"num_gc"`
	HBIn       uint64 `json:"packages_in"`
	HBOut      uint64 `json:"packages_out"`
	Timeouts   uint64 `json:"heartbeat_timeouts"`
	CPU        int64  `json:"cpu_ns"` // user + system CPU time of the process (getrusage)
}

// readRSS returns the resident set size of process pid ("self" for this one), in bytes.
func readRSS(pid string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "VmRSS:") {
			continue
		}
		fields := strings.Fields(line)
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("no VmRSS for %s", pid)
}

func printJSON(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("idlebench "+name, flag.ExitOnError)
}
