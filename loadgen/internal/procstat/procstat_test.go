package procstat

import (
	"os"
	"testing"
)

func TestParse(t *testing.T) {
	stat := []byte("1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 1000 200 18446744073709551615\n")
	cpu, err := ParseStat(stat)
	if err != nil || cpu != 3.25 {
		t.Fatalf("cpu %v %v, want 3.25", cpu, err)
	}
	if _, err := ParseStat([]byte("1 (x) S 1 2")); err != ErrFormat {
		t.Fatalf("short stat: %v", err)
	}
	rss, err := ParseStatusRSS([]byte("Name:\tx\nVmPeak:\t  999 kB\nVmRSS:\t    2048 kB\nThreads: 3\n"))
	if err != nil || rss != 2048<<10 {
		t.Fatalf("rss %d %v", rss, err)
	}
	if _, err := ParseStatusRSS([]byte("VmRSS: 12 MB\n")); err != ErrFormat {
		t.Fatalf("bad unit: %v", err)
	}
}

func TestReadSelf(t *testing.T) {
	s, err := Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS <= 0 || s.CPU < 0 {
		t.Fatalf("implausible %+v", s)
	}
	if o, err := Read(os.Getpid()); err != nil || o.RSS <= 0 {
		t.Fatalf("by pid: %+v %v", o, err)
	}
}
