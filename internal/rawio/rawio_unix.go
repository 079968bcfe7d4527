//go:build unix

// Package rawio holds the socket system calls of the connector's reactor, made raw: on a
// non-blocking socket they cannot block, so they are made without telling the scheduler, as the Go
// runtime makes its own non-blocking calls. cmd/echofloor makes the same calls, so that the floor
// it measures is the connector's own.
package rawio

import (
	"io"
	"syscall"
	"unsafe"
)

// Writev writes iov to the non-blocking socket fd with one system call (write or writev) and
// returns the bytes written: 0 when the socket buffer is full (EAGAIN).
func Writev(fd int, iov []syscall.Iovec) (int, error) {
	for {
		var n uintptr
		var e syscall.Errno
		if len(iov) == 1 { // write(2) spares the kernel the iovec copy
			n, _, e = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(iov[0].Base)), uintptr(iov[0].Len))
		} else {
			n, _, e = syscall.RawSyscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		}
		switch e {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, e
	}
}

// Read reads from the non-blocking socket fd into p and returns the bytes read: 0 and no error
// when nothing is buffered (EAGAIN), 0 and io.EOF at the end of the stream.
func Read(fd int, p []byte) (int, error) {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		switch e {
		case 0:
			if n == 0 {
				return 0, io.EOF
			}
			return int(n), nil
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, nil
		}
		return 0, e
	}
}
