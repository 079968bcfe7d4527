package rpc

import (
	"errors"
	"sync"
	"testing"
)

// TestOutqKeepsBusyBuffers: small buffers are always reused; a big one is kept while writes
// fill it and dropped after shortsToShrink underused writes in a row.
func TestOutqKeepsBusyBuffers(t *testing.T) {
	var q outq
	small := make([]byte, 10, 4096)
	requireEqual(t, cap(q.keepLocked(small)), 4096, "small buffer kept")
	big := make([]byte, maxKeptBuffer, 2*maxKeptBuffer)
	for i := 0; i < 3*shortsToShrink; i++ {
		requireEqual(t, cap(q.keepLocked(big)), 2*maxKeptBuffer, "busy big buffer kept")
	}
	idle := big[:100]
	for i := 0; i < shortsToShrink-1; i++ {
		requireEqual(t, cap(q.keepLocked(idle)), 2*maxKeptBuffer, "big buffer kept for a while")
	}
	if q.keepLocked(idle) != nil {
		t.Fatal("underused big buffer not dropped")
	}
}

// TestOutqFlushLoopAndError: the flusher writes what is appended while it writes, and a write
// error closes the queue and drops the failed buffer.
func TestOutqFlushLoopAndError(t *testing.T) {
	var mu sync.Mutex
	var q outq
	var writes [][]byte
	errWrite := errors.New("boom")
	fail := false
	write := func(b []byte) error {
		writes = append(writes, append([]byte(nil), b...))
		if len(writes) == 1 { // a producer appends while the first write is under way
			mu.Lock()
			q.buf = append(q.buf, "second"...)
			mu.Unlock()
		}
		if fail {
			return errWrite
		}
		return nil
	}
	mu.Lock()
	q.buf = append(q.buf, "first"...)
	start := q.startLocked()
	mu.Unlock()
	requireEqual(t, start, true, "idle queue starts a flush")
	requireNoError(t, q.flush(&mu, write), "flush")
	if len(writes) != 2 || string(writes[0]) != "first" || string(writes[1]) != "second" {
		t.Fatalf("writes %q", writes)
	}
	requireEqual(t, q.flushing, false, "flusher released")

	fail = true
	writes = nil
	mu.Lock()
	q.buf = append(q.buf, "third"...)
	q.holds++
	held := q.startLocked()
	q.holds--
	start = q.startLocked()
	mu.Unlock()
	requireEqual(t, held, false, "held queue does not flush")
	requireEqual(t, start, true, "released queue flushes")
	requireEqual(t, q.flush(&mu, write), errWrite, "write error")
	requireEqual(t, q.closed, true, "closed after a write error")
	requireEqual(t, q.spare == nil && q.buf == nil, true, "buffers dropped after a write error")
	mu.Lock()
	requireEqual(t, q.startLocked(), false, "closed queue never flushes")
	mu.Unlock()
}
