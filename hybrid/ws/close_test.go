package ws

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStatusCodeValid(t *testing.T) {
	valid := []StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	invalid := []StatusCode{0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 0xffff}
	for _, c := range valid {
		if !c.Valid() {
			t.Errorf("%d: not valid", c)
		}
	}
	for _, c := range invalid {
		if c.Valid() {
			t.Errorf("%d: valid", c)
		}
	}
}

func TestParseCloseData(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		code    StatusCode
		reason  string
		err     error
	}{
		{"empty", nil, StatusNoStatusRcvd, "", nil},
		{"code only", []byte{0x03, 0xe8}, 1000, "", nil},
		{"code and reason", []byte{0x03, 0xe9, 'b', 'y', 'e'}, 1001, "bye", nil},
		{"UTF-8 reason", cat([]byte{0x0f, 0xa0}, []byte("déjà vu €")), 4000, "déjà vu €", nil},
		{"1014", []byte{0x03, 0xf6}, 1014, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrCloseDataTooShort},
		{"code 0", []byte{0, 0}, 0, "", ErrCloseCode},
		{"code 999", []byte{0x03, 0xe7}, 0, "", ErrCloseCode},
		{"code 1004", []byte{0x03, 0xec}, 0, "", ErrCloseCode},
		{"code 1005", []byte{0x03, 0xed}, 0, "", ErrCloseCode},
		{"code 1006", []byte{0x03, 0xee}, 0, "", ErrCloseCode},
		{"code 1015", []byte{0x03, 0xf7}, 0, "", ErrCloseCode},
		{"code 2999", []byte{0x0b, 0xb7}, 0, "", ErrCloseCode},
		{"code 5000", []byte{0x13, 0x88}, 0, "", ErrCloseCode},
		{"invalid UTF-8", []byte{0x03, 0xe8, 'a', 0xff}, 0, "", ErrInvalidUTF8},
		{"surrogate in reason", []byte{0x03, 0xe8, 0xed, 0xa0, 0x80}, 0, "", ErrInvalidUTF8},
		{"truncated sequence", []byte{0x03, 0xe8, 0xe2, 0x82}, 0, "", ErrInvalidUTF8},
		{"126 bytes", cat([]byte{0x03, 0xe8}, bytes.Repeat([]byte{'a'}, 124)), 0, "", ErrCloseTooLong},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := ParseCloseData(tc.payload)
			if tc.err != nil {
				requireErrorIs(t, err, tc.err)
				requireEqual(t, CloseCode(err), err.(ProtocolError).Code())
				requireEqual(t, code, 0)
				return
			}
			requireNoError(t, err)
			requireEqual(t, code, tc.code)
			requireEqual(t, string(reason), tc.reason)
			if len(reason) > 0 && &reason[0] != &tc.payload[2] {
				t.Fatal("reason is a copy, want an alias of the payload")
			}
		})
	}
	requireEqual(t, CloseCode(ErrInvalidUTF8), StatusInvalidPayloadData)
	requireEqual(t, CloseCode(ErrCloseCode), StatusProtocolError)
}

func TestAppendCloseFrame(t *testing.T) {
	requireBytes(t, AppendCloseFrame(nil, StatusNormalClosure, "bye"),
		[]byte{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'})
	requireBytes(t, AppendCloseFrame(nil, StatusNoStatusRcvd, "ignored"), []byte{0x88, 0x00})
	requireBytes(t, AppendCloseFrame([]byte{9}, StatusMessageTooBig, ""), []byte{9, 0x88, 0x02, 0x03, 0xf1})
	requireBytes(t, AppendCloseData([]byte{9}, StatusGoingAway, "x"), []byte{9, 0x03, 0xe9, 'x'})
	requireEqual(t, len(AppendCloseData(nil, StatusNoStatusRcvd, "x")), 0)

	// A long reason is cut to 123 bytes, never inside a UTF-8 sequence.
	for _, reason := range []string{
		strings.Repeat("a", 200),
		strings.Repeat("a", 122) + "€€", // € is 3 bytes: the first one straddles byte 123
		strings.Repeat("é", 100),        // 2-byte sequences: 123 is odd
		strings.Repeat("a", 123),
	} {
		frame := AppendCloseFrame(nil, StatusPolicyViolation, reason)
		cfg := Config{Role: RoleClient}
		h, n, err := cfg.ParseHeader(frame)
		requireNoError(t, err)
		requireEqual(t, h.Op, OpClose)
		requireEqual(t, n+h.Length, len(frame))
		code, got, err := ParseCloseData(frame[n:])
		requireNoError(t, err)
		requireEqual(t, code, StatusPolicyViolation)
		if len(got) > MaxCloseReason || !utf8.Valid(got) || !strings.HasPrefix(reason, string(got)) {
			t.Fatalf("reason %q cut to %q", reason, got)
		}
		if len(got) < MaxCloseReason-utf8.UTFMax+1 {
			t.Fatalf("reason %q cut too short: %d bytes", reason, len(got))
		}
		requireBytes(t, AppendCloseData(nil, StatusPolicyViolation, reason), frame[n:])
	}
}

func TestCloseCode(t *testing.T) {
	requireEqual(t, CloseCode(nil), StatusNormalClosure)
	requireEqual(t, CloseCode(errors.New("io: broken")), StatusInternalError)
	requireEqual(t, CloseCode(fmt.Errorf("read: %w", ErrMessageTooBig)), StatusMessageTooBig)
	requireEqual(t, CloseCode(ErrFragmentInterrupted), StatusProtocolError)
}
