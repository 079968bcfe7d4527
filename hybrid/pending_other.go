//go:build !linux

package hybrid

// kernelPending is not implemented outside Linux: timeouts then never get the stall grace.
func kernelPending(fd int) bool { return false }
