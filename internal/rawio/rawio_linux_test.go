package rawio

import (
	"io"
	"syscall"
	"testing"
	"unsafe"
)

func TestReadWritevEpollWait(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fds[0])
	epfd, err := syscall.EpollCreate1(0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(epfd)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fds[0])}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, fds[0], &ev); err != nil {
		t.Fatal(err)
	}
	events := make([]syscall.EpollEvent, 4)
	buf := make([]byte, 16)

	if n, err := EpollWait(epfd, events, false); n != 0 || err != nil {
		t.Fatalf("poll with nothing ready: %d, %v", n, err)
	}
	if n, err := Read(fds[0], buf); n != 0 || err != nil {
		t.Fatalf("read with nothing buffered: %d, %v; want 0, nil", n, err)
	}
	iov := func(ps ...string) []syscall.Iovec {
		v := make([]syscall.Iovec, len(ps))
		for i, p := range ps {
			v[i].Base = unsafe.StringData(p)
			v[i].SetLen(len(p))
		}
		return v
	}
	for _, parts := range [][]string{{"one"}, {"two", "three"}} {
		n, err := Writev(fds[1], iov(parts...))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, p := range parts {
			want += len(p)
		}
		if n != want {
			t.Fatalf("wrote %d of %d", n, want)
		}
	}
	if n, err := EpollWait(epfd, events, true); n != 1 || err != nil || events[0].Fd != int32(fds[0]) {
		t.Fatalf("wait: %d, %v", n, err)
	}
	if n, err := Read(fds[0], buf); err != nil || string(buf[:n]) != "onetwothree" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	syscall.Close(fds[1])
	if n, err := Read(fds[0], buf); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v; want 0, EOF", n, err)
	}
	if _, err := Writev(fds[0], iov("x")); err != syscall.EPIPE {
		t.Fatalf("write after the peer closed: %v, want EPIPE", err)
	}
}
