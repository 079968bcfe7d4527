// Command echobench loads the chat demo's connector.entryHandler.echo route over raw TCP and
// reports responses per second and the SERVER's CPU time per response, read from
// /proc/<pid>/stat (utime+stime of every thread) before and after the measured window. Run the
// server as a separate process:
//
//	go build -o /tmp/chat ./examples/chat && go build -o /tmp/echobench ./examples/chat/echobench
//	/tmp/echobench -server /tmp/chat -conns 100 -depth 1 -duration 10s
//	/tmp/echobench -server /tmp/chat -conns 100 -depth 10 -duration 10s
//
// With -server the tool starts the server itself (on -addr, quiet logging) and stops it at the
// end; with -pid it measures an already running server. Each connection keeps -depth requests
// in flight: it writes that many at once, then writes one new request per response read (all
// the requests owed after one read go out in one write). Heartbeats are answered as pomelo's
// clients answer them, one interval after the server's. The server's read and write system calls
// per response come from /proc/<pid>/io (syscr, syscw: the transport's reads and writes).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shaddock-io/shaddock/codec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "echobench:", err)
		os.Exit(1)
	}
}

type options struct {
	addr      string
	conns     int
	depth     int
	duration  time.Duration
	warmup    time.Duration
	body      string
	code      int
	route     string
	pid       int
	server    string
	serverArg string
	clkTck    int
}

func run() error {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:3010", "server address")
	flag.IntVar(&o.conns, "conns", 100, "connections")
	flag.IntVar(&o.depth, "depth", 1, "requests in flight per connection")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before")
	flag.StringVar(&o.body, "body", `{"x":1,"s":"frontend echo"}`, "request body (JSON)")
	flag.IntVar(&o.code, "code", 3, "dictionary code of the route (0: send the route as a string)")
	flag.StringVar(&o.route, "route", "connector.entryHandler.echo", "route, when -code is 0")
	flag.IntVar(&o.pid, "pid", 0, "pid of a running server to measure")
	flag.StringVar(&o.server, "server", "", "server binary to start (the chat demo), measured and stopped at the end")
	flag.StringVar(&o.serverArg, "server-args", "", "extra arguments for -server, space separated")
	flag.IntVar(&o.clkTck, "clk-tck", 100, "clock ticks per second of /proc/<pid>/stat (getconf CLK_TCK)")
	flag.Parse()
	if o.conns < 1 || o.depth < 1 {
		return errors.New("-conns and -depth must be positive")
	}
	if o.server != "" {
		stop, pid, err := startServer(o)
		if err != nil {
			return err
		}
		defer stop()
		o.pid = pid
	}
	return bench(o)
}

// startServer starts the demo and waits until it accepts connections.
func startServer(o options) (stop func(), pid int, err error) {
	args := []string{"-addr", o.addr, "-quiet"}
	if o.serverArg != "" {
		args = append(args, strings.Fields(o.serverArg)...)
	}
	cmd := exec.Command(o.server, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", o.addr)
		if err == nil {
			c.Close()
			return stop, cmd.Process.Pid, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, 0, fmt.Errorf("server did not start: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bench(o options) error {
	var responses atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conns := make([]net.Conn, o.conns)
	var beat time.Duration
	for i := range conns {
		c, hb, err := dialPomelo(o.addr)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns[i], beat = c, hb
	}
	req := func(dst []byte, id uint32) []byte {
		dst, at := codec.BeginPacket(dst, codec.TypeData)
		if o.code > 0 {
			dst = codec.AppendRequestCode(dst, id, uint16(o.code), []byte(o.body))
		} else {
			dst, _ = codec.AppendRequest(dst, id, o.route, []byte(o.body))
		}
		codec.EndPacket(dst, at)
		return dst
	}
	var wg sync.WaitGroup
	errs := make(chan error, o.conns)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loop(ctx, c, o.depth, beat, req, &responses); err != nil && ctx.Err() == nil {
				errs <- err
			}
		}()
	}

	time.Sleep(o.warmup)
	user0, sys0, err := procTimes(o.pid, o.clkTck)
	if err != nil && o.pid != 0 {
		return err
	}
	io0, _ := procIO(o.pid)
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	r0, t0 := responses.Load(), time.Now()
	select {
	case <-time.After(o.duration):
	case err := <-errs:
		return err
	}
	r1, t1 := responses.Load(), time.Now()
	user1, sys1, _ := procTimes(o.pid, o.clkTck)
	io1, ioErr := procIO(o.pid)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cancel()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()

	n := r1 - r0
	el := t1.Sub(t0)
	fmt.Fprintf(os.Stdout, "echobench: %d conns x %d in flight, body %dB, %v measured (after %v warm-up), GOMAXPROCS(client) %d, %d CPUs\n",
		o.conns, o.depth, len(o.body), el.Round(time.Millisecond), o.warmup, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(os.Stdout, "responses: %d  (%.0f resp/s)\n", n, float64(n)/el.Seconds())
	clientCPU := tv(ru1.Utime) + tv(ru1.Stime) - tv(ru0.Utime) - tv(ru0.Stime)
	if n > 0 {
		fmt.Fprintf(os.Stdout, "client CPU: %v  (%.2f us/resp)\n", clientCPU.Round(time.Millisecond), float64(clientCPU.Microseconds())/float64(n))
	}
	if o.pid != 0 && n > 0 {
		user, sys := user1-user0, sys1-sys0
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
		fmt.Fprintf(os.Stdout, "server CPU: %v  (%.2f us/resp: user %.2f, sys %.2f)  pid %d\n",
			(user + sys).Round(time.Millisecond), per(user+sys), per(user), per(sys), o.pid)
		if ioErr == nil {
			fmt.Fprintf(os.Stdout, "server syscalls: %.3f reads/resp, %.3f writes/resp (/proc/%d/io syscr, syscw)\n",
				float64(io1.reads-io0.reads)/float64(n), float64(io1.writes-io0.writes)/float64(n), o.pid)
		}
	}
	return nil
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// procTimes returns utime and stime of pid (all threads) from /proc/<pid>/stat.
func procTimes(pid, clkTck int) (user, sys time.Duration, err error) {
	if pid == 0 {
		return 0, 0, nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// Fields after the parenthesised command name: state is field 3; utime 14, stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	tick := time.Second / time.Duration(clkTck)
	return time.Duration(ut) * tick, time.Duration(st) * tick, nil
}

// ioCounts are the read and write system calls of a process (/proc/<pid>/io syscr and syscw:
// read, readv, recvmsg, ... and write, writev, sendmsg, ...).
type ioCounts struct{ reads, writes int64 }

// procIO returns the I/O system call counts of pid.
func procIO(pid int) (ioCounts, error) {
	var c ioCounts
	if pid == 0 {
		return c, errors.New("no pid")
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return c, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			c.reads = n
		case "syscw":
			c.writes = n
		}
	}
	return c, nil
}

// dialPomelo connects and completes the pomelo handshake (handshake, response, ACK). It returns
// the heartbeat interval the server announced (sys.heartbeat; 0 when heartbeats are off).
func dialPomelo(addr string) (net.Conn, time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	hs, _ := codec.AppendPacket(nil, codec.TypeHandshake, []byte(`{"sys":{"type":"echobench","version":"0.1"},"user":{}}`))
	if _, err := c.Write(hs); err != nil {
		c.Close()
		return nil, 0, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [codec.HeaderSize]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		c.Close()
		return nil, 0, err
	}
	t, n, err := codec.ParseHeader(hdr[:])
	if err != nil || t != codec.TypeHandshake {
		c.Close()
		return nil, 0, fmt.Errorf("bad handshake response header %x", hdr)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		c.Close()
		return nil, 0, err
	}
	var res struct {
		Code int `json:"code"`
		Sys  struct {
			Heartbeat int `json:"heartbeat"`
		} `json:"sys"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Code != 200 {
		c.Close()
		return nil, 0, fmt.Errorf("handshake refused: %s", body)
	}
	c.SetReadDeadline(time.Time{})
	ack, _ := codec.AppendPacket(nil, codec.TypeHandshakeAck, nil)
	if _, err := c.Write(ack); err != nil {
		c.Close()
		return nil, 0, err
	}
	return c, time.Duration(res.Sys.Heartbeat) * time.Second, nil
}

// loop keeps depth requests in flight on c until ctx ends. Heartbeats are answered as the pomelo
// clients answer them: one heartbeat interval after the server's heartbeat arrived (the server
// echoes each client heartbeat at once, so answering at once would make the two ping-pong
// heartbeats as fast as the round trip allows).
func loop(ctx context.Context, c net.Conn, depth int, beat time.Duration, req func([]byte, uint32) []byte, responses *atomic.Uint64) error {
	var id uint32
	out := make([]byte, 0, 4096)
	for i := 0; i < depth; i++ {
		id++
		out = req(out, id)
	}
	if _, err := c.Write(out); err != nil {
		return err
	}
	br := bufio.NewReaderSize(c, 64<<10)
	heartbeat, _ := codec.AppendPacket(nil, codec.TypeHeartbeat, nil)
	var hdr [codec.HeaderSize]byte
	var beatDue time.Time // when the next heartbeat is owed; zero when none is
	for ctx.Err() == nil {
		out = out[:0]
		got := 0
		// Read at least one package, then every whole package already buffered.
		for first := true; first || br.Buffered() >= codec.HeaderSize; first = false {
			if !first {
				h, _ := br.Peek(codec.HeaderSize)
				_, n, err := codec.ParseHeader(h)
				if err != nil {
					return err
				}
				if br.Buffered() < codec.HeaderSize+n {
					break
				}
			}
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return err
			}
			t, n, err := codec.ParseHeader(hdr[:])
			if err != nil {
				return err
			}
			if _, err := br.Discard(n); err != nil {
				return err
			}
			switch t {
			case codec.TypeData:
				got++
			case codec.TypeHeartbeat:
				beatDue = time.Now().Add(beat)
			case codec.TypeKick:
				return errors.New("kicked")
			}
		}
		responses.Add(uint64(got))
		if !beatDue.IsZero() && time.Now().After(beatDue) {
			out = append(out, heartbeat...)
			beatDue = time.Time{}
		}
		for i := 0; i < got; i++ {
			id++
			out = req(out, id)
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return err
			}
		}
	}
	return nil
}
