//go:build !unix

package cluster

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminateSignal kills: there is no SIGTERM to send here.
func terminateSignal(p *os.Process) error { return p.Kill() }
