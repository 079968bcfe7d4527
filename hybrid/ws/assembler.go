package ws

import "unicode/utf8"

// Message assembly errors.
var (
	ErrUnexpectedContinuation error = ProtocolError{StatusProtocolError, "ws: continuation frame without a message to continue"}
	ErrFragmentInterrupted    error = ProtocolError{StatusProtocolError, "ws: new data frame inside a fragmented message"}
)

// maxRetainedBuffer is the largest fragment buffer an Assembler keeps between
// messages; a larger one is dropped once its message has been handed out, so
// that one big fragmented message does not pin memory for the life of the
// connection.
const maxRetainedBuffer = 16 << 10

// Message is a complete data message or a control frame, as returned by
// Assembler.Push. Payload is unmasked; see Push for how long it stays valid.
type Message struct {
	Op      Opcode // OpText, OpBinary, OpClose, OpPing or OpPong
	Payload []byte
	// Compressed: the payload is permessage-deflate data (Inflate). A compressed text message
	// is not checked for UTF-8 here: the caller checks what Inflate returns.
	Compressed bool
}

// Assembler turns the frames of one connection into messages (RFC 6455
// §5.4): it joins fragmented data messages, hands out control frames
// interleaved between fragments as soon as they arrive, bounds the size of a
// message and checks that text messages are UTF-8.
//
// The zero value is ready for use with the limits of the zero Config; Reset
// applies another Config. An Assembler belongs to one connection and is not
// safe for concurrent use: call it from the goroutine that reads the
// connection. After Push or CheckHeader returns an error the connection must
// be closed (CloseCode gives the status code); the Assembler can be reused
// for another connection after Reset.
type Assembler struct {
	_ noCopy

	limit int    // MaxMessageSize in force; 0 until Reset, meaning the default
	op    Opcode // first opcode of the fragmented message in progress; OpContinuation when none
	comp  bool   // the message in progress is compressed
	buf   []byte // payload of the fragmented message in progress; owned, reused
	valid int    // for text: length of the prefix of buf checked to be UTF-8
}

// Reset discards any message in progress and applies the limits of c (nil
// means the zero Config). The fragment buffer is kept for reuse unless it has
// grown large.
func (a *Assembler) Reset(c *Config) {
	a.limit = c.maxMessageSize()
	a.op = OpContinuation
	a.valid = 0
	a.buf = a.buf[:0]
	if cap(a.buf) > maxRetainedBuffer {
		a.buf = nil
	}
}

// InMessage reports whether a fragmented message has been started and not
// yet finished.
func (a *Assembler) InMessage() bool { return a.op != OpContinuation }

func (a *Assembler) maxSize() int {
	if a.limit <= 0 {
		return DefaultMaxMessageSize
	}
	return a.limit
}

// CheckHeader reports whether a frame with header h can be accepted in the
// current state, without its payload: a continuation frame needs a message
// in progress, a data frame needs none, and the message must stay within
// MaxMessageSize. Calling it before reading a payload lets a connection
// refuse an oversized fragment without buffering it; Push makes the same
// checks, so calling CheckHeader is optional. It does not change the state.
func (a *Assembler) CheckHeader(h Header) error {
	switch {
	case h.Op.IsControl():
		return nil
	case h.Op == OpContinuation:
		if a.op == OpContinuation {
			return ErrUnexpectedContinuation
		}
		if h.Length > a.maxSize()-len(a.buf) {
			return ErrMessageTooBig
		}
	default:
		if a.op != OpContinuation {
			return ErrFragmentInterrupted
		}
		if h.Length > a.maxSize() {
			return ErrMessageTooBig
		}
	}
	return nil
}

// Push takes one frame: its header h, as returned by Config.ParseHeader, and
// its payload, already unmasked (h.Length and h.Mask are not used).
//
// When the frame completes a message, or is a control frame, Push returns it
// with ok set. Otherwise the frame was the start or a middle part of a
// fragmented message: its payload has been copied and Push returns ok false.
//
// Lifetimes: an unfragmented message and a control frame are returned
// without copying: m.Payload is the payload argument itself. A fragmented
// message is returned in a buffer owned by the Assembler, valid until the
// next call to Push or Reset. A control frame may arrive between the
// fragments of a message; it does not disturb the message in progress.
//
// Push validates text messages as UTF-8, failing as soon as a fragment
// cannot be the start of valid text. Close payloads are not inspected here:
// use ParseCloseData.
func (a *Assembler) Push(h Header, payload []byte) (m Message, ok bool, err error) {
	if h.Op.IsControl() {
		return Message{Op: h.Op, Payload: payload}, true, nil
	}
	if h.Op != OpContinuation {
		return a.pushFirst(h, payload)
	}
	if a.op == OpContinuation {
		return Message{}, false, ErrUnexpectedContinuation
	}
	if len(payload) > a.maxSize()-len(a.buf) {
		return Message{}, false, ErrMessageTooBig
	}
	a.buf = append(a.buf, payload...)
	if err := a.checkText(h.Fin); err != nil {
		return Message{}, false, err
	}
	if !h.Fin {
		return Message{}, false, nil
	}
	m = Message{Op: a.op, Payload: a.buf, Compressed: a.comp}
	a.op = OpContinuation
	a.valid = 0
	a.buf = a.buf[:0]
	if cap(a.buf) > maxRetainedBuffer {
		a.buf = nil // m.Payload keeps the memory alive as long as the caller needs it
	}
	return m, true, nil
}

// pushFirst handles a Text or Binary frame: a whole message, or the first
// fragment of one.
func (a *Assembler) pushFirst(h Header, payload []byte) (Message, bool, error) {
	if a.op != OpContinuation {
		return Message{}, false, ErrFragmentInterrupted
	}
	if len(payload) > a.maxSize() {
		return Message{}, false, ErrMessageTooBig
	}
	if h.Fin {
		if h.Op == OpText && !h.Compressed && !utf8.Valid(payload) {
			return Message{}, false, ErrInvalidUTF8
		}
		return Message{Op: h.Op, Payload: payload, Compressed: h.Compressed}, true, nil
	}
	a.op = h.Op
	a.comp = h.Compressed
	a.valid = 0
	a.buf = append(a.buf[:0], payload...)
	if err := a.checkText(false); err != nil {
		return Message{}, false, err
	}
	return Message{}, false, nil
}

// checkText validates the part of a text message's buffer not yet checked.
// Before the final fragment the buffer may end inside a UTF-8 sequence; that
// tail is checked again once the next fragment has been appended.
func (a *Assembler) checkText(final bool) error {
	if a.op != OpText || a.comp {
		return nil
	}
	rest := a.buf[a.valid:]
	end := len(rest)
	if !final {
		end = completeRunes(rest)
	}
	if !utf8.Valid(rest[:end]) {
		return ErrInvalidUTF8
	}
	a.valid += end
	return nil
}

// completeRunes returns the length of b without a trailing incomplete UTF-8
// sequence: one whose lead byte and continuation bytes so far could still
// become a valid encoding. A tail that can never become valid is kept, so
// that validating the result reports it.
func completeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}
