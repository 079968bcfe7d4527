package rawio

import (
	"syscall"
	"unsafe"
)

// EpollWait waits for events on epfd: blocking, as a system call the scheduler knows of, or, when
// block is false, a raw non-blocking poll.
func EpollWait(epfd int, events []syscall.EpollEvent, block bool) (int, error) {
	if block {
		return syscall.EpollWait(epfd, events, -1)
	}
	n, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
