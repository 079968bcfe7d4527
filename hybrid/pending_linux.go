package hybrid

import (
	"syscall"
	"unsafe"
)

// kernelPending reports whether the socket fd has received bytes that nobody has read yet
// (ioctl TIOCINQ, alias FIONREAD). Only timeouts call it.
func kernelPending(fd int) bool {
	var n int32
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	return e == 0 && n > 0
}
