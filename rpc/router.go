package rpc

import (
	"hash/crc32"
	"unicode/utf8"
)

// CRC32JS returns the checksum that npm crc@0.2.0 crc32(s) computes, the
// hash behind pomelo's default RPC router: the IEEE CRC-32 of the low byte
// of each UTF-16 code unit of s, as a signed 32-bit integer.
//
// For ASCII and Latin-1 text that is the ordinary CRC-32 of the text's
// Latin-1 bytes. A character above U+FFFF is two code units (a surrogate
// pair) and contributes two bytes. A byte of s that is not part of valid
// UTF-8 counts as U+FFFD (low byte 0xFD), as Go's decoder reads it; uids
// should be valid UTF-8 so that every peer sees the same string.
//
// It does not allocate and is safe for concurrent use.
func CRC32JS(s string) int32 {
	tab := crc32.IEEETable
	crc := ^uint32(0)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			crc = tab[byte(crc)^c] ^ crc>>8
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			// High surrogate 0xD800 + (r-0x10000)>>10, then low surrogate
			// 0xDC00 + (r-0x10000)&0x3FF; both bases have a zero low byte.
			v := uint32(r - 0x10000)
			crc = tab[byte(crc)^byte(v>>10)] ^ crc>>8
			crc = tab[byte(crc)^byte(v)] ^ crc>>8
			continue
		}
		crc = tab[byte(crc)^byte(r)] ^ crc>>8
	}
	return int32(^crc)
}

// DefaultRoute returns the index, in [0, n), of the server that pomelo's
// default router picks among n servers of a type for a session bound to
// uid: Math.abs(crc32(uid)) % n. Pass "" for a session with no uid (it
// always lands on index 0). The uid must be the string JavaScript would
// see: for a numeric uid, its JavaScript Number-to-String form.
//
// The index refers to the order in which the servers of that type were
// added, which is pomelo's list order. It returns -1 when n <= 0 (no
// server). It does not allocate and is safe for concurrent use.
func DefaultRoute(uid string, n int) int {
	if n <= 0 {
		return -1
	}
	// In int64, because abs(math.MinInt32) does not fit in an int32.
	h := int64(CRC32JS(uid))
	if h < 0 {
		h = -h
	}
	return int(h % int64(n))
}
