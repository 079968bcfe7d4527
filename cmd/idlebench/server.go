package main

import (
	"bufio"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/hybrid"
)

// idleHandler accepts every handshake and ignores data.
type idleHandler struct{}

func (idleHandler) Handshake(*hybrid.Conn, *hybrid.HandshakeRequest) hybrid.HandshakeResult {
	return hybrid.HandshakeResult{Code: 200}
}
func (idleHandler) Open(*hybrid.Conn)                       {}
func (idleHandler) Data(*hybrid.Conn, []byte)               {}
func (idleHandler) ReadBatchDone(*hybrid.Conn)              {}
func (idleHandler) Closed(*hybrid.Conn, hybrid.CloseReason) {}

func serverCmd(args []string) error {
	fs := newFlags("server")
	addr := fs.String("addr", "127.0.0.1:3390", "listen address")
	hb := fs.Duration("heartbeat", 3*time.Second, "heartbeat interval (whole seconds; 0 = off)")
	rate := fs.Int("memprofilerate", 0, "runtime.MemProfileRate (0 = Go's default); 1 records every allocation")
	inline := fs.Bool("inline", false, "Config.Inline: run read batches on the pollers")
	pollers := fs.Int("pollers", 0, "Config.Pollers (0 = the package default)")
	gogc := fs.Int("gogc", 0, "debug.SetGCPercent (0 = leave GOGC as it is)")
	memLimit := fs.Int64("memlimit", 0, "debug.SetMemoryLimit in bytes (0 = none)")
	fs.Parse(args)
	if *rate > 0 {
		runtime.MemProfileRate = *rate
	}
	if *gogc != 0 {
		debug.SetGCPercent(*gogc)
	}
	if *memLimit > 0 {
		debug.SetMemoryLimit(*memLimit)
	}

	s, err := hybrid.NewServer(hybrid.Config{
		Heartbeat:        *hb,
		Inline:           *inline,
		Pollers:          *pollers,
		HandshakeTimeout: time.Minute,
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, idleHandler{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			switch line := in.Text(); {
			case line == "stats":
				printJSON(serverStatus(s))
			case line == "gc": // twice: the first moves sync.Pool contents to the victim cache
				runtime.GC()
				runtime.GC()
				printJSON(serverStatus(s))
			case strings.HasPrefix(line, "heapprofile "):
				writeHeapProfile(strings.TrimPrefix(line, "heapprofile "))
				printJSON(serverStatus(s))
			}
		}
		s.Close()
	}()
	printJSON(serverStatus(s)) // ready
	err = s.Serve(ln)
	if err == hybrid.ErrServerClosed {
		return nil
	}
	return err
}

func serverStatus(s *hybrid.Server) status {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := readRSS("self")
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	st := s.Stats()
	return status{
		Conns: s.Len(), Working: st.ClassifiedConns.Load(), RSS: rss,
		HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, HeapSys: ms.HeapSys, StackInuse: ms.StackInuse,
		Goroutines: runtime.NumGoroutine(),
		TotalAlloc: ms.TotalAlloc, Mallocs: ms.Mallocs, NumGC: ms.NumGC,
		HBIn: st.PackagesIn.Load(), HBOut: st.PackagesOut.Load(), Timeouts: st.HeartbeatTimeouts.Load(),
		CPU: ru.Utime.Nano() + ru.Stime.Nano(),
	}
}

// writeHeapProfile writes the in-use heap profile to path (after a GC), for finding what each
// connection costs.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		slog.Error("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.Lookup("heap").WriteTo(f, 0)
}
