package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// This file is a minimal Chrome DevTools Protocol client over --remote-debugging-pipe: Chrome
// reads commands on its fd 3 and writes replies and events on its fd 4, one JSON object per
// message, each terminated by a NUL byte. No port, no WebSocket.

// browser is a headless Chromium driven through the pipe.
type browser struct {
	cmd    *exec.Cmd
	w      io.WriteCloser // Chrome's fd 3
	r      *bufio.Reader  // Chrome's fd 4
	rc     io.Closer      // our end of fd 4, closed once Chrome is gone
	stderr *bytes.Buffer

	mu      sync.Mutex // guards the fields below
	nextID  int
	pending map[int]chan cdpReply
	events  []cdpEvent
	readErr error

	done chan struct{} // closed by the read loop (its only closer) when the pipe ends
}

type cdpReply struct {
	Result json.RawMessage
	Err    *cdpError
}

type cdpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *cdpError) Error() string { return fmt.Sprintf("cdp: %d %s", e.Code, e.Message) }

// cdpEvent is a protocol event (a message without an id).
type cdpEvent struct {
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

// startBrowser starts Chromium (path) headless with a fresh profile under dir.
func startBrowser(t testing.TB, path, dir string) *browser {
	t.Helper()
	toChrome, chromeIn, err := os.Pipe() // we write chromeIn; Chrome reads toChrome as fd 3
	requireNoError(t, err, "pipe")
	chromeOut, fromChrome, err := os.Pipe() // Chrome writes fromChrome as fd 4; we read chromeOut
	requireNoError(t, err, "pipe")
	b := &browser{w: chromeIn, r: bufio.NewReaderSize(chromeOut, 1<<16), rc: chromeOut, stderr: &bytes.Buffer{},
		pending: map[int]chan cdpReply{}, done: make(chan struct{})}
	b.cmd = exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--disable-default-apps", "--mute-audio",
		"--hide-scrollbars", "--no-default-browser-check", "--password-store=basic",
		"--user-data-dir="+dir, "--window-size=1280,900", "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	b.cmd.Stderr = &lockedWriter{b: b.stderr}
	requireNoError(t, b.cmd.Start(), "start "+path)
	toChrome.Close() // Chrome's copies stay open in the child
	fromChrome.Close()
	go b.readLoop()
	t.Cleanup(func() { b.close() })
	return b
}

// lockedWriter serialises Chrome's stderr writes with reads in failure messages.
type lockedWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (b *browser) stderrText() string {
	lw := b.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	s := lw.b.String()
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

// readLoop dispatches replies to their callers and keeps events.
func (b *browser) readLoop() {
	defer close(b.done)
	for {
		msg, err := b.r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			for id, ch := range b.pending {
				ch <- cdpReply{Err: &cdpError{Code: -1, Message: "pipe closed: " + err.Error()}}
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *cdpError       `json:"error"`
			cdpEvent
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- cdpReply{Result: m.Result, Err: m.Error}
				delete(b.pending, m.ID)
			}
		} else {
			b.events = append(b.events, m.cdpEvent)
		}
		b.mu.Unlock()
	}
}

// call sends a command (to the page session when session is set) and decodes its result into
// out (may be nil).
func (b *browser) call(ctx context.Context, session, method string, params any, out any) error {
	ch := make(chan cdpReply, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return b.readErr
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		return err
	}
	select {
	case rep := <-ch:
		if rep.Err != nil {
			return fmt.Errorf("%s: %w", method, rep.Err)
		}
		if out != nil {
			return json.Unmarshal(rep.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// eventList returns the events received so far.
func (b *browser) eventList() []cdpEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]cdpEvent(nil), b.events...)
}

// openPage attaches to the first page target and returns its session id.
func (b *browser) openPage(ctx context.Context) (string, error) {
	var targets struct {
		TargetInfos []struct {
			TargetID string `json:"targetId"`
			Type     string `json:"type"`
		} `json:"targetInfos"`
	}
	if err := b.call(ctx, "", "Target.getTargets", nil, &targets); err != nil {
		return "", err
	}
	for _, ti := range targets.TargetInfos {
		if ti.Type == "page" {
			var att struct {
				SessionID string `json:"sessionId"`
			}
			err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": ti.TargetID, "flatten": true}, &att)
			return att.SessionID, err
		}
	}
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return "", err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &att)
	return att.SessionID, err
}

// eval evaluates a JavaScript expression in the page and decodes its JSON-able value into out.
func (b *browser) eval(ctx context.Context, session, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	err := b.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return errors.New("eval: " + res.ExceptionDetails.Text)
	}
	return json.Unmarshal(res.Result.Value, out)
}

// close asks Chrome to exit, then kills it if it does not.
func (b *browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = b.call(ctx, "", "Browser.close", nil, nil)
	b.w.Close()
	exited := make(chan struct{})
	go func() { b.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-exited
	}
	<-b.done
	b.rc.Close()
}
