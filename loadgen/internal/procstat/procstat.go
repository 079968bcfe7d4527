package procstat

import (
	"bytes"
	"errors"
	"os"
	"strconv"
)

// ErrFormat is returned when a /proc file does not have the expected layout.
var ErrFormat = errors.New("procstat: unexpected /proc format")

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is 100 on every Linux
// architecture Go supports (the kernel exports it as a constant to user space).
const clockTicks = 100

// Sample is one reading of a process.
type Sample struct {
	CPU float64 // user + system CPU seconds since the process started
	RSS int64   // resident set size in bytes (VmRSS)
}

// Read samples process pid; pid 0 means the calling process.
func Read(pid int) (Sample, error) {
	dir := "/proc/self/"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/"
	}
	stat, err := os.ReadFile(dir + "stat")
	if err != nil {
		return Sample{}, err
	}
	cpu, err := ParseStat(stat)
	if err != nil {
		return Sample{}, err
	}
	status, err := os.ReadFile(dir + "status")
	if err != nil {
		return Sample{}, err
	}
	rss, err := ParseStatusRSS(status)
	if err != nil {
		return Sample{}, err
	}
	return Sample{CPU: cpu, RSS: rss}, nil
}

// ParseStat returns utime+stime in seconds from the contents of /proc/PID/stat. The command name
// (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
func ParseStat(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, ErrFormat
	}
	f := bytes.Fields(b[i+1:])
	// After the name: state(3) ppid(4) ... utime(14) stime(15); f[0] is field 3.
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, ErrFormat
	}
	u, err1 := strconv.ParseUint(string(f[utime]), 10, 64)
	s, err2 := strconv.ParseUint(string(f[stime]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, ErrFormat
	}
	return float64(u+s) / clockTicks, nil
}

// ParseStatusRSS returns VmRSS in bytes from the contents of /proc/PID/status (0 for a process
// without memory, such as a zombie, which has no VmRSS line).
func ParseStatusRSS(b []byte) (int64, error) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, ErrFormat
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, ErrFormat
		}
		return kb << 10, nil
	}
	return 0, nil
}
