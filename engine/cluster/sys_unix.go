//go:build unix && !linux

package cluster

import (
	"os"
	"syscall"
)

// sysProcAttr puts a server process in its own process group (a terminal's Ctrl-C reaches the
// master only). Without Pdeathsig, a server process notices a dead master by polling its parent
// (EnvMasterPID).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func terminateSignal(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
