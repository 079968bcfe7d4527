package rpc

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// failingListener fails its next Accepts with the errors in fail, then accepts from the real
// listener. It records when each failure happened.
type failingListener struct {
	net.Listener
	mu     sync.Mutex
	fail   []error
	failed []time.Time
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.fail) > 0 {
		err := l.fail[0]
		l.fail = l.fail[1:]
		l.failed = append(l.failed, time.Now())
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", err)}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func (l *failingListener) failures() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.failed...)
}

// An Accept that fails for want of descriptors or memory is reported and retried after a pause
// that doubles, and calls are served once Accept works again.
func TestAcceptRetriesWhenOutOfDescriptors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	fl := &failingListener{Listener: ln, fail: []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM}}
	var mu sync.Mutex
	var reported []error
	hook := WithErrorHook(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	})
	serveOn(t, fl, ServerConfig{Name: "accept"}, func(s *Server) {
		requireNoError(t, s.Handle(nameForward, echoHandler()), "Handle")
	}, hook)

	c := newClient(t, ln.Addr().String(), ClientConfig{Timeout: 10 * time.Second})
	m, _ := c.Method(nameForward.Namespace, nameForward.Service, nameForward.Method)
	var res fwdResp
	requireNoError(t, c.Call(context.Background(), m, sampleForward(16), &res), "call after the failed accepts")
	requireEqual(t, res.Code, int64(200), "code")

	at := fl.failures()
	requireEqual(t, len(at), 4, "failed accepts")
	// The pauses are 5, 10 and 20 ms between the four failures (timers fire late, never early).
	for i, want := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond} {
		if got := at[i+1].Sub(at[i]); got < want {
			t.Errorf("pause %d: %v, want at least %v", i, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	requireEqual(t, len(reported), 4, "reported errors")
	for i, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		requireCode(t, reported[i], CodeConnLost, "reported error")
		if !errors.Is(reported[i], errno) {
			t.Errorf("reported error %d: %v, want it to wrap %v", i, reported[i], errno)
		}
	}
}

// Any other Accept error ends Serve with that error.
func TestAcceptOtherErrorEndsServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	defer ln.Close()
	fl := &failingListener{Listener: ln, fail: []error{syscall.EINVAL}}
	s, err := NewServer(ServerConfig{Name: "accept"})
	requireNoError(t, err, "NewServer")
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Serve(fl) }()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("Serve: %v, want EINVAL", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve kept accepting after EINVAL")
	}
}

// Close during a retry pause ends Serve at once, not at the end of the pause.
func TestCloseDuringAcceptPause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	requireNoError(t, err, "listen")
	fails := make([]error, 20) // 5 ms doubling to the 1 s cap: about 15 s of pauses in all
	for i := range fails {
		fails[i] = syscall.EMFILE
	}
	fl := &failingListener{Listener: ln, fail: fails}
	s, err := NewServer(ServerConfig{Name: "accept"})
	requireNoError(t, err, "NewServer")
	done := make(chan error, 1)
	go func() { done <- s.Serve(fl) }()
	// After the ninth failure the pause is at its 1 s cap.
	eventually(t, 10*time.Second, "the pause reaching 1 s", func() bool { return len(fl.failures()) >= 9 })
	start := time.Now()
	requireNoError(t, s.Close(), "Close")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v during a retry pause", d)
	}
}
