package hybrid

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// emfileChild names the environment variable that makes TestAcceptRetriesAfterEMFILE the
// server half of itself.
const emfileChild = "HYBRID_EMFILE_CHILD"

// A server out of descriptors leaves new connections in the listen backlog, counts and logs the
// failed accepts, and takes the connections once descriptors are free again: they complete their
// handshake. The server runs in a child process (this test, re-executed) whose descriptor limit
// is lowered to what it already has open, so the clients, in this process, are not limited.
func TestAcceptRetriesAfterEMFILE(t *testing.T) {
	if os.Getenv(emfileChild) != "" {
		emfileServer(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptRetriesAfterEMFILE$", "-test.v")
	cmd.Env = append(os.Environ(), emfileChild+"=1")
	stdin, err := cmd.StdinPipe()
	requireNoError(t, err, "stdin pipe")
	stdout, err := cmd.StdoutPipe()
	requireNoError(t, err, "stdout pipe")
	cmd.Stderr = os.Stderr
	requireNoError(t, cmd.Start(), "start the server process")
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(waitTimeout)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("server process ended before %q", prefix)
				}
				if v, found := strings.CutPrefix(l, prefix); found {
					return v
				}
			case <-timeout:
				t.Fatalf("no %q from the server process within %v", prefix, waitTimeout)
			}
		}
	}
	addr := next("emfile-addr ")

	// The kernel completes these connections into the backlog; the server cannot accept them
	// until its limit is raised again, so the handshakes wait for that.
	const clients = 3
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			c, err := pc.Dial(addr, pc.Options{Transport: pc.TCP, Timeout: waitTimeout})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if _, err := c.Handshake(nil); err != nil {
				errs <- fmt.Errorf("handshake: %w", err)
			}
		})
	}
	failed := next("emfile-failed ")
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("client: %v", err)
	}
	stdin.Close() // the server process stops
	if n, err := strconv.Atoi(failed); err != nil || n < 1 {
		t.Errorf("server counted %q failed accepts, want at least 1", failed)
	}
	accepted := next("emfile-accepted ")
	requireEqual(t, accepted, strconv.Itoa(clients), "connections accepted after the limit was raised")
	requireNoError(t, cmd.Wait(), "server process")
}

// emfileServer is the child's half: it serves with no descriptor to spare until an accept has
// failed, then restores the limit and serves until its stdin closes.
func emfileServer(t *testing.T) {
	s, addr := startServer(t, Config{}, newTestHandler())
	connect(t, addr, pc.TCP) // the pollers run: they have their descriptors
	var old syscall.Rlimit
	requireNoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old), "getrlimit")
	f, err := os.Open(os.DevNull)
	requireNoError(t, err, "open")
	lowest := f.Fd() // the lowest free descriptor number: a limit of it leaves none free
	f.Close()
	requireNoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: uint64(lowest), Max: old.Max}), "setrlimit")
	fmt.Printf("emfile-addr %s\n", addr)
	eventually(t, "a failed accept", func() bool { return s.Stats().AcceptErrors.Load() > 0 })
	requireNoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old), "restore rlimit")
	fmt.Printf("emfile-failed %d\n", s.Stats().AcceptErrors.Load())
	io.Copy(io.Discard, os.Stdin)
	fmt.Printf("emfile-accepted %d\n", s.Stats().Accepted.Load()-1)
}
