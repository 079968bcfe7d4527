package rpc

import "syscall"

// accept accepts a connection on the non-blocking listener fd; the new descriptor is
// non-blocking and close-on-exec.
func accept(fd int) (int, syscall.Sockaddr, error) {
	return syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
}
