// Package procstat samples a Linux process's CPU time and resident memory from /proc:
//
//	/proc/PID/stat    pid (comm) state ppid ... utime(14) stime(15) ...   in USER_HZ ticks
//	/proc/PID/status  ... VmRSS:   123456 kB ...
//
// The command name may contain spaces and parentheses, so stat fields are counted from the last
// ')'. Read does file I/O and allocates; it is meant for once-a-second sampling.
package procstat
