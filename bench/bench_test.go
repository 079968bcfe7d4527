package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpliceSectionKeepsHandWrittenText(t *testing.T) {
	doc := []byte("# Benchmarks\n\nhand-written intro\n\n" + markBegin + "\nold numbers\n" + markEnd + "\n\nhand-written notes\n")
	out, err := spliceSection(doc, "new numbers\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nhand-written intro\n\n" + markBegin + "\nnew numbers\n" + markEnd + "\n\nhand-written notes\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	again, err := spliceSection(out, "new numbers\n")
	if err != nil || string(again) != want {
		t.Fatalf("second splice changed the file: %q, %v", again, err)
	}
}

func TestSpliceSectionCreatesMarkers(t *testing.T) {
	out, err := spliceSection(nil, "numbers\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Benchmarks\n\n" + markBegin + "\nnumbers\n" + markEnd + "\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	out, err = spliceSection([]byte("notes without a newline"), "numbers\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "notes without a newline\n\n" + markBegin + "\nnumbers\n" + markEnd + "\n"; string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestSpliceSectionBadMarkers(t *testing.T) {
	for _, doc := range []string{
		"x " + markBegin + " y",
		"x " + markEnd + " y",
		markEnd + " x " + markBegin,
	} {
		if _, err := spliceSection([]byte(doc), "n\n"); !errors.Is(err, ErrMarkers) {
			t.Errorf("%q: err = %v, want ErrMarkers", doc, err)
		}
	}
}

func TestSelectScenarios(t *testing.T) {
	all := scenarios(true)
	got := selectScenarios(all, []string{"be-echo-1x1", "idle"})
	var names []string
	for _, s := range got {
		names = append(names, s.name)
	}
	if strings.Join(names, ",") != "idle-tcp,idle-ws,be-echo-1x1" {
		t.Fatalf("selected %v", names)
	}
	if len(selectScenarios(all, []string{"nosuch"})) != 0 {
		t.Fatal("an unknown name selected scenarios")
	}
}

// TestQuickMatrix builds the demo and loadgen and runs the whole -quick matrix against real
// processes, writing into a copy of a BENCHMARKS.md with hand-written text around the markers.
func TestQuickMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries and runs the -quick matrix")
	}
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	const intro, notes = "# Benchmarks\n\nintro kept\n\n", "\n\nnotes kept\n"
	if err := os.WriteFile(out, []byte(intro+markBegin+"\nstale\n"+markEnd+notes), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- run([]string{"-quick", "-out", out}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(4 * time.Minute):
		t.Fatal("the quick matrix did not finish within 4 minutes")
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if !strings.HasPrefix(doc, intro+markBegin) || !strings.HasSuffix(doc, markEnd+notes) {
		t.Fatalf("hand-written text around the markers changed:\n%s", doc)
	}
	if strings.Contains(doc, "stale") || strings.Contains(doc, "FAILED") {
		t.Fatalf("generated section:\n%s", doc)
	}
	for _, s := range scenarios(true) {
		if !strings.Contains(doc, "| "+s.name+" | "+s.layout+" |") {
			t.Errorf("no summary row for %s", s.name)
		}
	}
	for _, want := range []string{"**Machine:**", "GOMAXPROCS", "Load average before the run", "loadgen -quiet -addr 127.0.0.1:"} {
		if !strings.Contains(doc, want) {
			t.Errorf("section lacks %q", want)
		}
	}
}
