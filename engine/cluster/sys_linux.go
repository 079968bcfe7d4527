package cluster

import (
	"os"
	"syscall"
)

// sysProcAttr puts a server process in its own process group (a terminal's Ctrl-C reaches the
// master only, which then stops the servers in order) and has the kernel kill it when the
// master's spawning thread dies (the master was killed: nothing is left running).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminateSignal(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
